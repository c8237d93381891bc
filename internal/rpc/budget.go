package rpc

import (
	"errors"
	"runtime/debug"
	"sync"
	"time"
)

// freeBuffer is how much of a packet's read buffer needs no budget: libvirt's
// VIR_NET_MESSAGE_INITIAL (64 KiB). Every call and reply of a normal session
// fits; the pools keep buffers up to this size.
const freeBuffer = 1 << 16

// budgetWait is how long a connection loop waits for budget before it gives
// up on its client.
var budgetWait = 5 * time.Second

// errNoBudget ends a connection whose packet could not get buffer memory.
var errNoBudget = errors.New("rpc: packet buffer memory budget exhausted")

// memBudget bounds the memory of the read buffers above freeBuffer that a
// server's clients hold at once. A reader that grows a buffer first reserves
// the growth; when the budget is spent it waits (the client is not read
// meanwhile) until other packets are done, and after budgetWait the
// connection is closed. When the last reservation of a burst above
// releaseAbove is returned, the freed memory is handed back to the OS at
// once (debug.FreeOSMemory) instead of over the runtime's scavenger minutes.
type memBudget struct {
	mu    sync.Mutex
	cond  sync.Cond // a reservation was returned, the limit changed, or a waiter must look again
	limit int64     // 0: unlimited
	used  int64
	peak  int64 // highest use since the last hand-back
	// freeing is true while a hand-back runs.
	freeing bool
}

// releaseAbove is the burst size after which the memory is handed back.
const releaseAbove = 16 << 20

func newMemBudget(limit int64) *memBudget {
	b := &memBudget{limit: limit}
	b.cond.L = &b.mu
	return b
}

func (b *memBudget) setLimit(limit int64) {
	b.mu.Lock()
	b.limit = limit
	b.cond.Broadcast()
	b.mu.Unlock()
}

// reserve takes n bytes. It waits while the budget is spent, until budgetWait
// has passed or gone reports true; then it returns errNoBudget. A request
// larger than the whole budget fails at once.
func (b *memBudget) reserve(n int64, gone func() bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit > 0 && n > b.limit {
		return errNoBudget
	}
	var timer *time.Timer
	timedOut := false
	for b.limit > 0 && b.used+n > b.limit {
		if timedOut || gone() {
			return errNoBudget
		}
		if timer == nil {
			timer = time.AfterFunc(budgetWait, func() {
				b.mu.Lock()
				timedOut = true
				b.cond.Broadcast()
				b.mu.Unlock()
			})
			defer timer.Stop()
		}
		b.cond.Wait()
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return nil
}

// release returns n bytes.
func (b *memBudget) release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.cond.Broadcast()
	handBack := b.used == 0 && b.peak >= releaseAbove && !b.freeing
	if handBack {
		b.peak, b.freeing = 0, true
	}
	b.mu.Unlock()
	if handBack {
		go func() {
			debug.FreeOSMemory()
			b.mu.Lock()
			b.freeing = false
			b.mu.Unlock()
		}()
	}
}

// wake makes waiters look again (a client is closing).
func (b *memBudget) wake() {
	b.mu.Lock()
	b.cond.Broadcast()
	b.mu.Unlock()
}

// Used returns the bytes reserved now.
func (b *memBudget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// reservedFor is the budget a read buffer of capacity c holds.
func reservedFor(c int) int64 { return int64(max(c-freeBuffer, 0)) }
