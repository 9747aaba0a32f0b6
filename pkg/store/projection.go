package store

import (
	"cmp"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// ProjectionOf returns the projection that reads what item struct T holds:
// every attribute its dynamodbav tags name (the fields of embedded structs
// too, as attributevalue encodes them), in field order, but those named in
// omit. Each name is read through a placeholder "#"+name ("#a"+index for
// a name with other characters than letters, digits and _), so reserved
// words (name, max) need no care; a caller that adds placeholders of its
// own to Names uses the same one for the same name.
//
//	p := store.ProjectionOf[sessionstore.Item](store.AttrSK)
//	// p.Expression == "#pk, #template, #name, ..."
//
// It derives the projection from the tags so that an item struct and what
// a read asks of it cannot drift apart.
func ProjectionOf[T any](omit ...string) Projection {
	var names []string
	attrNames(reflect.TypeFor[T](), &names)
	p := Projection{Names: make(map[string]string, len(names))}
	var b strings.Builder
	for i, n := range names {
		if slices.Contains(omit, n) || slices.Contains(names[:i], n) {
			continue
		}
		ph := "#" + n
		if strings.ContainsFunc(n, func(r rune) bool {
			return !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
		}) {
			ph = "#a" + strconv.Itoa(i) // a placeholder holds letters, digits and _ only
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ph)
		p.Names[ph] = n
	}
	p.Expression = b.String()
	return p
}

// attrNames appends the attribute names of struct type t's fields.
func attrNames(t reflect.Type, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("dynamodbav")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			attrNames(f.Type, out)
			continue
		}
		if !f.IsExported() {
			continue
		}
		*out = append(*out, cmp.Or(name, f.Name))
	}
}
