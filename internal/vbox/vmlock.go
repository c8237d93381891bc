package vbox

import (
	"context"
	"sync"
)

// vmLocks serialises the daemon's own commands on one machine (keyed by
// UUID) so that VirtualBox's session-lock races cannot come from our side;
// commands on different machines run in parallel. Entries are reference
// counted and removed when unused.
type vmLocks struct {
	mu sync.Mutex
	m  map[string]*vmLock
	// released, if set, runs when a holder releases key, before the next
	// holder gets it (the event hub publishes the command's result).
	released func(key string)
}

type vmLock struct {
	ch   chan struct{} // holds one token while locked
	refs int
}

// lock acquires uuid's lock, or returns ctx's error. The returned function
// releases it.
func (l *vmLocks) lock(ctx context.Context, uuid string) (func(), error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*vmLock{}
	}
	e := l.m[uuid]
	if e == nil {
		e = &vmLock{ch: make(chan struct{}, 1)}
		l.m[uuid] = e
	}
	e.refs++
	l.mu.Unlock()

	select {
	case e.ch <- struct{}{}:
	case <-ctx.Done():
		l.put(uuid, e)
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if l.released != nil {
				l.released(uuid)
			}
			<-e.ch
			l.put(uuid, e)
		})
	}, nil
}

func (l *vmLocks) put(uuid string, e *vmLock) {
	l.mu.Lock()
	e.refs--
	if e.refs == 0 {
		delete(l.m, uuid)
	}
	l.mu.Unlock()
}
