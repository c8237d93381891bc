package rpctest

import (
	"sync"
	"time"
)

// signal lets a test await a state change instead of polling: C returns a
// channel that the next notify closes.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) c() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// await returns once cond holds, re-checking it at each notification, or
// false after timeout (a guard against a hang, not a wait).
func (s *signal) await(cond func() bool, timeout time.Duration) bool {
	guard := time.NewTimer(timeout)
	defer guard.Stop()
	for {
		ch := s.c() // taken before the check, so no change is missed
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-guard.C:
			return cond()
		}
	}
}
