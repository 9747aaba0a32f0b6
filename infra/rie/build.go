// Package rie runs the functions' real bootstrap binaries under AWS's
// Lambda Runtime Interface Emulator (aws-lambda-rie, the runtime that
// `sam local` puts in its containers), without Docker. It builds the
// emulator (pinned in go.mod as a tool, built from source) and the
// bootstraps for this machine, gives each function the environment the
// template gives it (Environment), and keeps a pool of emulators per
// function (Pool), each serving one invocation at a time as a Lambda
// execution environment does.
package rie

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"
)

// EmulatorPackage is the emulator's main package, a tool of go.mod.
const EmulatorPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// GoFlags are the go build flags of the Lambda binaries: the Makefile's
// LAMBDA_GOFLAGS, which TestGoFlagsMatchMakefile holds equal.
var GoFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s"}

// Binaries are what Build made.
type Binaries struct {
	// Emulator is the path of aws-lambda-rie.
	Emulator string
	// Bootstrap is the path of each function's bootstrap, by the name of
	// its directory under functions/.
	Bootstrap map[string]string
}

// Build compiles, in the module at root, the emulator and the bootstraps
// of the named functions (directories under functions/) for this machine,
// with the flags and tags of the Lambda build (GoFlags, CGO_ENABLED=0),
// into dir: dir/aws-lambda-rie and dir/NAME/bootstrap. Go's build cache
// makes a second build of unchanged sources quick.
func Build(ctx context.Context, root, dir string, names ...string) (*Binaries, error) {
	b := &Binaries{Emulator: filepath.Join(dir, "aws-lambda-rie"), Bootstrap: map[string]string{}}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return goBuild(ctx, root, b.Emulator, EmulatorPackage, nil) })
	for _, name := range names {
		out := filepath.Join(dir, name, "bootstrap")
		b.Bootstrap[name] = out
		g.Go(func() error { return BuildBootstrap(ctx, root, "./functions/"+name, out) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return b, nil
}

// BuildBootstrap builds the main package pkg of the module at root into
// out, as the Lambda build does but for this machine.
func BuildBootstrap(ctx context.Context, root, pkg, out string) error {
	return goBuild(ctx, root, out, pkg, GoFlags)
}

// goBuild builds pkg into out: into a file of its own beside out, then
// renamed over it, so that a build running beside another (two tests, or
// make run and make test) never writes a binary that an emulator is
// running or another build is writing.
func goBuild(ctx context.Context, root, out, pkg string, flags []string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	defer os.Remove(tmp)
	args := append([]string{"build"}, flags...)
	args = append(args, "-o", tmp, pkg)
	cmd := exec.CommandContext(ctx, goCommand(), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, strings.TrimSpace(string(b)))
	}
	return os.Rename(tmp, out)
}

// goCommand is the go command that runs us when there is one (go run,
// go test), else the first on PATH.
func goCommand() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}
