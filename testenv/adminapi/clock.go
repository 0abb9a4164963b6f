package adminapi

import (
	"sync"
	"time"
)

// clock is the injected time source plus an offset that AdvanceClock grows,
// so tests can age keys and invites without waiting.
type clock struct {
	mu     sync.Mutex
	source func() time.Time
	offset time.Duration
}

func newClock(source func() time.Time) *clock {
	if source == nil {
		source = time.Now
	}
	return &clock{source: source}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.source().Add(c.offset).UTC()
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Now is the emulator's current time.
func (e *Emulator) Now() time.Time { return e.clock.now() }

// AdvanceClock moves the emulator's time forward by d (backward if negative).
func (e *Emulator) AdvanceClock(d time.Duration) { e.clock.advance(d) }
