package sessionstore

// DecodeItem is decodeItem, for the external tests.
var DecodeItem = decodeItem
