package runtimeapi

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before killing.
const stopGrace = 2 * time.Second

// ProcessConfig describes a runtime process: a bootstrap binary and the
// environment Lambda gives it.
type ProcessConfig struct {
	// Path is the executable, typically a function's bootstrap.
	Path string
	Args []string
	// FunctionName defaults to the server's function name.
	FunctionName string
	// MemoryMB defaults to 128.
	MemoryMB int
	// Version defaults to "$LATEST".
	Version string
	// Region defaults to us-east-1.
	Region string
	// Handler (_HANDLER) defaults to "bootstrap".
	Handler string
	// TaskRoot (LAMBDA_TASK_ROOT, also the working directory) defaults to
	// the directory of Path.
	TaskRoot string
	// Env holds extra KEY=value variables; they override Lambda's. The host
	// environment is not inherited, as in Lambda.
	Env []string
	// Stdout and Stderr, when set, receive a live copy of the output.
	Stdout, Stderr io.Writer
}

// Line is one line the process wrote.
type Line struct {
	Stream string // "stdout" or "stderr"
	Text   string
	Time   time.Time
}

// InitError is why a runtime never became ready: the error it posted to
// /runtime/init/error, or its exit before the first /next.
type InitError struct {
	Type    string
	Message string
}

func (e *InitError) Error() string { return "function init failed: " + e.Type + ": " + e.Message }

// Process is a runtime process attached to a Server.
type Process struct {
	srv        *Server
	gen        int
	cmd        *exec.Cmd
	started    time.Time
	initSignal <-chan struct{}
	done       chan struct{}
	exitErr    error // valid once done is closed

	mu           sync.Mutex
	lines        []Line
	linesChanged chan struct{}
}

// StartProcess starts cfg.Path as the runtime of srv, in a fresh execution
// environment. Only one process may run per server at a time.
func StartProcess(srv *Server, cfg ProcessConfig) (*Process, error) {
	if cfg.Path == "" {
		return nil, errors.New("start runtime process: no executable path")
	}
	gen, initSignal, err := srv.newEnvironment()
	if err != nil {
		return nil, fmt.Errorf("start runtime process: %w", err)
	}

	cmd := exec.Command(cfg.Path, cfg.Args...)
	cmd.Env = lambdaEnv(srv, cfg)
	cmd.Dir = taskRoot(cfg)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start runtime process: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start runtime process: %w", err)
	}
	p := &Process{srv: srv, gen: gen, cmd: cmd, initSignal: initSignal, done: make(chan struct{}), linesChanged: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		srv.runtimeExited(gen, err)
		return nil, fmt.Errorf("start runtime process %s: %w", cfg.Path, err)
	}

	var readers sync.WaitGroup
	readers.Go(func() { p.capture("stdout", stdout, cfg.Stdout) })
	readers.Go(func() { p.capture("stderr", stderr, cfg.Stderr) })
	go func() {
		// Wait may only run once the pipes are drained.
		readers.Wait()
		p.exitErr = cmd.Wait()
		srv.runtimeExited(gen, p.exitErr)
		close(p.done)
	}()
	return p, nil
}

func taskRoot(cfg ProcessConfig) string {
	if cfg.TaskRoot != "" {
		return cfg.TaskRoot
	}
	return filepath.Dir(cfg.Path)
}

// lambdaEnv is the environment Lambda documents for custom runtimes.
func lambdaEnv(srv *Server, cfg ProcessConfig) []string {
	name := cfg.FunctionName
	if name == "" {
		name = srv.cfg.FunctionName
	}
	memory := cfg.MemoryMB
	if memory <= 0 {
		memory = 128
	}
	version := cfg.Version
	if version == "" {
		version = "$LATEST"
	}
	reg := cfg.Region
	if reg == "" {
		reg = region
	}
	handler := cfg.Handler
	if handler == "" {
		handler = "bootstrap"
	}
	var stream [16]byte
	_, _ = rand.Read(stream[:])
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + srv.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=" + name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(memory),
		"AWS_LAMBDA_FUNCTION_VERSION=" + version,
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + name,
		fmt.Sprintf("AWS_LAMBDA_LOG_STREAM_NAME=%s/[%s]%x", time.Now().UTC().Format("2006/01/02"), version, stream),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION=" + reg,
		"AWS_DEFAULT_REGION=" + reg,
		"_HANDLER=" + handler,
		"LAMBDA_TASK_ROOT=" + taskRoot(cfg),
		"PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin",
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
	}
	return mergeEnv(env, cfg.Env)
}

// mergeEnv appends extra to base, replacing variables base already has.
func mergeEnv(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra))
	override := map[string]bool{}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		override[k] = true
	}
	for _, kv := range base {
		if k, _, _ := strings.Cut(kv, "="); !override[k] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

func (p *Process) capture(stream string, r io.Reader, copyTo io.Writer) {
	br := bufio.NewReader(r)
	for {
		text, err := br.ReadString('\n')
		if text != "" {
			if copyTo != nil {
				_, _ = io.WriteString(copyTo, text)
			}
			p.mu.Lock()
			p.lines = append(p.lines, Line{Stream: stream, Text: strings.TrimRight(text, "\r\n"), Time: time.Now()})
			close(p.linesChanged)
			p.linesChanged = make(chan struct{})
			p.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Lines returns everything the process wrote so far, in order of arrival.
func (p *Process) Lines() []Line {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Line(nil), p.lines...)
}

// WaitLine waits for a line that satisfies match, including lines already
// written, and returns it. It fails when ctx ends or the process exits
// without writing one.
func (p *Process) WaitLine(ctx context.Context, match func(Line) bool) (Line, error) {
	seen, exited := 0, false
	for {
		p.mu.Lock()
		lines, changed := p.lines[seen:], p.linesChanged
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			if match(l) {
				return l, nil
			}
		}
		if exited {
			return Line{}, fmt.Errorf("process exited (%v) without the awaited line", p.exitErr)
		}
		select {
		case <-changed:
		case <-p.done:
			// The readers finish before done closes: one more look sees
			// every line.
			exited = true
		case <-ctx.Done():
			return Line{}, fmt.Errorf("wait for line: %w", ctx.Err())
		}
	}
}

// WaitInit waits until the runtime is ready (its first /next) and returns
// the init duration: from process start to that call. A runtime that posts
// /init/error or exits first yields an *InitError.
func (p *Process) WaitInit(ctx context.Context) (time.Duration, error) {
	select {
	case <-p.initSignal:
	case <-ctx.Done():
		return 0, fmt.Errorf("wait for runtime init: %w", ctx.Err())
	}
	at, initErr, exited, exitErr := p.srv.initOutcome(p.gen)
	switch {
	case initErr != nil:
		return 0, &InitError{Type: initErr.Type, Message: initErr.Message}
	case !at.IsZero():
		return at.Sub(p.started), nil
	case exited:
		return 0, &InitError{Type: ErrorTypeExit, Message: exitReason(exitErr)}
	}
	return 0, errors.New("runtime init state unknown")
}

// initDuration is WaitInit for a runtime known to be past init.
func (p *Process) initDuration() (time.Duration, bool) {
	select {
	case <-p.initSignal:
		d, err := p.WaitInit(context.Background())
		return d, err == nil
	default:
		return 0, false
	}
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error; only meaningful once Done is closed.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.exitErr
	default:
		return nil
	}
}

// Stop ends the process as Lambda ends an environment: SIGTERM, then
// SIGKILL after a grace period. It returns once the process has exited.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case <-p.done:
		return
	case <-grace.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}
