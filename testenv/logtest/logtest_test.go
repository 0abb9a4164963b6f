package logtest

import (
	"fmt"
	"sync"
	"testing"
)

func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); fmt.Fprintf(&b, "line %d\n", i) }()
	}
	wg.Wait()
	if n := len(b.Lines()); n != 50 {
		t.Fatalf("%d lines, want 50", n)
	}
	b.Reset()
	if b.String() != "" {
		t.Fatal("Reset left data")
	}
}
