package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// FunctionConfig describes a function: its runtime process and timeout.
type FunctionConfig struct {
	ProcessConfig
	// Timeout is the function timeout; default DefaultTimeout.
	Timeout time.Duration
	// Logger receives protocol events at debug level; nil discards.
	Logger *slog.Logger
}

// Function runs a bootstrap binary with Lambda's environment lifecycle: the
// first invocation starts the process (a cold start, whose init duration the
// Result reports), later ones reuse it while it stays warm, and a timeout
// or a crash discards it so that the next invocation starts a new one.
// Invocations run one at a time, as in a single execution environment.
type Function struct {
	srv *Server
	cfg ProcessConfig

	invoking sync.Mutex // held for a whole invocation

	mu    sync.Mutex // guards proc and procs
	proc  *Process
	procs []*Process
}

// NewFunction starts the function's Runtime API server. No process runs
// until the first Invoke.
func NewFunction(cfg FunctionConfig) (*Function, error) {
	srv, err := NewServer(Config{FunctionName: cfg.FunctionName, Timeout: cfg.Timeout, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("new function: %w", err)
	}
	return &Function{srv: srv, cfg: cfg.ProcessConfig}, nil
}

// Server is the function's Runtime API server.
func (f *Function) Server() *Server { return f.srv }

// Invoke runs one invocation, starting a process first if none is warm.
func (f *Function) Invoke(ctx context.Context, payload []byte, opts InvokeOptions) (Result, error) {
	f.invoking.Lock()
	defer f.invoking.Unlock()
	for attempt := 0; ; attempt++ {
		proc, cold, err := f.warm()
		if err != nil {
			return Result{}, err
		}
		res, delivered, err := f.srv.invoke(ctx, payload, opts)
		if err != nil {
			return Result{}, err
		}
		initialised := false
		if d, ok := proc.initDuration(); ok {
			initialised = true
			if cold {
				res.InitDuration = d
			}
		}
		// A warm process that died between invocations never saw this event:
		// Lambda gives it to a new environment.
		if !delivered && initialised && res.ErrorType == ErrorTypeExit && attempt == 0 {
			f.discard()
			continue
		}
		if res.TimedOut || res.ErrorType == ErrorTypeExit || !initialised {
			f.discard() // Lambda resets the environment
		}
		return res, nil
	}
}

// warm returns the running process, starting one (a cold start) if there is
// none or it has exited.
func (f *Function) warm() (*Process, bool, error) {
	f.mu.Lock()
	p := f.proc
	f.mu.Unlock()
	if p != nil && !isDone(p) {
		return p, false, nil
	}
	f.discard()
	p, err := StartProcess(f.srv, f.cfg)
	if err != nil {
		return nil, false, fmt.Errorf("cold start: %w", err)
	}
	f.mu.Lock()
	f.proc = p
	f.procs = append(f.procs, p)
	f.mu.Unlock()
	return p, true, nil
}

// discard stops the current process, if any.
func (f *Function) discard() {
	f.mu.Lock()
	p := f.proc
	f.proc = nil
	f.mu.Unlock()
	if p != nil {
		p.Stop()
	}
}

func isDone(p *Process) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

// Process is the warm process, or nil.
func (f *Function) Process() *Process {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.proc
}

// ColdStarts is how many processes the function has started.
func (f *Function) ColdStarts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.procs)
}

// Lines returns the output of every process the function ran, in order.
func (f *Function) Lines() []Line {
	var out []Line
	for _, p := range f.processes() {
		out = append(out, p.Lines()...)
	}
	return out
}

// WaitLine waits for a line that satisfies match from any process the
// function ran. A process writes its output before it answers, but the
// output may be read after the answer arrives: wait for a line rather than
// reading Lines right after Invoke.
func (f *Function) WaitLine(ctx context.Context, match func(Line) bool) (Line, error) {
	procs := f.processes()
	if len(procs) == 0 {
		return Line{}, errors.New("wait for line: the function has not run")
	}
	// Earlier processes were stopped, so their output is complete.
	for _, p := range procs[:len(procs)-1] {
		for _, l := range p.Lines() {
			if match(l) {
				return l, nil
			}
		}
	}
	return procs[len(procs)-1].WaitLine(ctx, match)
}

// processes returns every process the function started, oldest first.
func (f *Function) processes() []*Process {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.procs)
}

// Close stops the warm process and the server.
func (f *Function) Close() error {
	// Closing the server first releases an invocation in progress.
	err := f.srv.Close()
	f.invoking.Lock()
	defer f.invoking.Unlock()
	f.discard()
	return err
}
