// Command xblctl is the project's development tool: it creates the table,
// loads fixtures, mints development tokens, serves the local API through
// the Lambda event path, invokes a function with an event file, and runs
// the whole local stack (`make run`).
//
// Exit codes: 0 success, 1 failure, 2 bad usage, 3 invalid input (a bad
// fixture or event file).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitInvalid = 3
)

// command is one subcommand.
type command struct {
	name    string
	args    string
	summary string
	run     func(args []string) error
}

// commands is set in init: the commands' usage text reads it.
var commands []command

func init() {
	commands = []command{
		{"up", "[FIXTURE...]", "run the whole local stack: DynamoDB Local, table, fixtures, API (what `make run` does)", runUp},
		{"create-table", "", "create the table if it does not exist (idempotent)", runCreateTable},
		{"load", "FILE...", "validate fixture files, then write them to the table", runLoad},
		{"token", "--xuid X --uhs H --title T --sandbox S", "print an Authorization header value signed with the development key", runToken},
		{"serve", "", "serve the local API: HTTP requests become API Gateway payload 2.0 events", runServe},
		{"invoke", "FUNCTION --event FILE", "invoke one function with one event file, as `sam local invoke` does", runInvoke},
		{"stats", "write|get --xuid X --scid S [--patch | --revision N] [NAME=VALUE...]", "write a player's statistics through the local API as a game does (POST, or --patch), or get the stored document. VALUE: a JSON number is sent as written (70 an Integer, 1.5 or 3.0 a Double), a quoted JSON string is that string, null (with --patch) deletes the stat, anything else is a string", runStats},
		{"leaderboard", "--scid S --stat NAME [--max N] [--rank R | --user X | --token T]", "read a leaderboard page through the local API as XSAPI does (contract 4.1): the top page, from a rank, around a player, or after a continuation token", runLeaderboard},
		{"session", "put|get|leave --scid S --template T --name N --xuid X [--create] [--join] [--keywords a,b] [--reserve X,...]", "create, join, change, read or leave a session through the local API as a game does (MPSD, contract 107)", runSession},
		{"handle", "activity|invite|transfer|query|delete|get|join [ID] [flags]", "post, find or delete MPSD handles (activity, invite, transfer), or read or join the session a handle names, through the local API as Multiplayer Manager does (contract 107)", runHandle},
		{"rta", "watch [--xuid X] [--api URL] [--subscribe=true] [--for DURATION]", "connect to real-time activity as a player (the API's /connect, as XSAPI does), subscribe to the multiplayer resource, print the connection id a session write names, then every message heard (shoulder taps) until Ctrl-C or --for", runRTA},
		{"dynamodb", "", "run DynamoDB Local in the foreground until Ctrl-C", runDynamoDB},
	}
}

// usageError is bad usage: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// invalidError is invalid input: exit code 3.
type invalidError struct{ err error }

func (e invalidError) Error() string { return e.err.Error() }
func (e invalidError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		mainUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:])
		var ue usageError
		var ie invalidError
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "xblctl %s: %v\nRun 'xblctl %s --help' for usage.\n", c.name, err, c.name)
			return exitUsage
		case errors.As(err, &ie):
			fmt.Fprintf(stderr, "xblctl %s: %v\n", c.name, err)
			return exitInvalid
		default:
			fmt.Fprintf(stderr, "xblctl %s: %v\n", c.name, err)
			return exitFailure
		}
	}
	fmt.Fprintf(stderr, "xblctl: unknown command %q\n\n", args[0])
	mainUsage(stderr)
	return exitUsage
}

func mainUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: xblctl COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'xblctl COMMAND --help' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 success, 1 failure, 2 bad usage, 3 invalid input.")
}

// newFlags returns a FlagSet for a command whose parse errors are usage
// errors and whose --help prints the command's usage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args, whose flags may come before, between or after the
// positional arguments (see flagsFirst); --help prints usage to stdout.
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(flagsFirst(fs, args))
	if errors.Is(err, flag.ErrHelp) {
		printUsage(fs, os.Stdout)
		return flag.ErrHelp
	}
	if err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// flagsFirst reorders args so that every flag (with its value, for a flag
// of fs that takes one as the next argument) comes before the positional
// arguments, which keep their order behind a "--": `stats write A=1
// --xuid X` parses as `--xuid X -- A=1`. Everything after a "--" of args
// is positional, as is a lone "-". A flag fs does not define stays a flag,
// for fs.Parse to refuse.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name, _, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		if hasValue || i+1 >= len(args) {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			i++
			flags = append(flags, args[i]) // the flag's value, whatever it looks like
		}
	}
	if len(pos) == 0 {
		return flags
	}
	return append(append(flags, "--"), pos...)
}

// verbFirst moves a command's verb (its first positional argument, as
// flagsFirst tells flags, their values and positionals apart) to the
// front of args, so that flags may come before it too: `stats --xuid X
// get` is `stats get --xuid X`. args without a positional are returned
// as they are.
func verbFirst(fs *flag.FlagSet, args []string) []string {
	ordered := flagsFirst(fs, args)
	i := slices.Index(ordered, "--")
	if i < 0 || i+1 >= len(ordered) || len(args) > 0 && args[0] == ordered[i+1] {
		return args
	}
	rest := append(slices.Clone(ordered[:i+1]), ordered[i+2:]...)
	return append([]string{ordered[i+1]}, rest...)
}

// verbByName is verbFirst for a command whose flags depend on its verb
// (handle, rta): the first argument that is one of verbs, and not a flag,
// moves to the front.
func verbByName(args []string, verbs ...string) []string {
	if len(args) == 0 || slices.Contains(verbs, args[0]) {
		return args
	}
	for i, a := range args {
		if a == "--" {
			break
		}
		if slices.Contains(verbs, a) {
			return append([]string{a}, append(slices.Clone(args[:i]), args[i+1:]...)...)
		}
	}
	return args
}

func printUsage(fs *flag.FlagSet, w io.Writer) {
	for _, c := range commands {
		if c.name == fs.Name() {
			fmt.Fprintf(w, "Usage: xblctl %s %s\n\n%s.\n", c.name, c.args, strings.ToUpper(c.summary[:1])+c.summary[1:])
		}
	}
	var hasFlags bool
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// What to start when nothing answers where a command looked.
const (
	startAPI      = "start the local stack with `make run` (or `xblctl up`), or point --api at a running one"
	startDynamoDB = "start it with `make run` (the whole local stack) or `xblctl dynamodb` (DynamoDB Local alone), or give --endpoint"
)

// refused reports whether err means that nothing listens where a command
// connected (connection refused).
func refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// notRunning is the error of a command that found nothing running: what
// does not answer, and what to start.
func notRunning(what, start string, err error) error {
	var op *net.OpError // "dial tcp 127.0.0.1:3000: connect: connection refused", without the SDK's wrapping
	if errors.As(err, &op) {
		err = op
	}
	return fmt.Errorf("%s does not answer, nothing is running there (%w): %s", what, err, start)
}

// answered is the error of an API call (what) answered with status, 300
// or more. A 503 is the service unavailable: on the local stack, its
// DynamoDB stopped.
func answered(what string, status int) error {
	if status == http.StatusServiceUnavailable {
		return fmt.Errorf("%s answered 503, the service is unavailable: the local stack's DynamoDB may have stopped; restart the stack with `make run` (or `xblctl up`)", what)
	}
	return fmt.Errorf("%s answered %d", what, status)
}

// dialEndpoint connects to the host of endpoint, a URL, and hangs up: nil
// when something listens there.
func dialEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return fmt.Errorf("endpoint %q is not a URL", endpoint)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(u.Hostname(), port), 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// envOr returns the environment variable's value, or def when it is empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
