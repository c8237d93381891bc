package rpc

import "sync"

// workerPool is libvirt's virThreadPool in goroutines: minWorkers are kept
// running, more are started up to maxWorkers while jobs wait, and
// prioWorkers extra workers run only high-priority jobs so that cheap calls
// keep flowing when every normal worker is blocked in the hypervisor.
// Idle workers are parked goroutines, not OS threads.
//
// Fairness, beyond libvirt: the jobs of one owner (a client's uid) may
// occupy at most ownerShare of each kind of worker, so that one user's
// calls stuck in VBoxManage always leave workers for everyone else's. A
// job whose owner is at its share waits in the queue while later jobs of
// other owners run.
type workerPool struct {
	mu       sync.Mutex
	cond     sync.Cond // normal workers wait here
	prioCond sync.Cond // priority workers wait here
	queue    []job     // FIFO; head at index 0
	quit     bool

	min, max, prio   int
	nWorkers, nFree  int
	nPrio, nPrioFree int
	// running counts the jobs in progress per owner, on normal workers
	// ([0]) and on priority workers ([1]).
	running [2]map[uint32]int
}

// ownerShare is how many workers of a pool of size n one owner may occupy:
// all but a quarter (at least one is kept for other owners when n > 1).
func ownerShare(n int) int {
	if n <= 1 {
		return n
	}
	return n - max(1, n/4)
}

// job is one call waiting for a worker.
type job struct {
	prio  bool
	owner uint32 // whose call: the client's uid
	run   func()
}

func newWorkerPool(min, max, prio int) *workerPool {
	p := &workerPool{running: [2]map[uint32]int{{}, {}}}
	p.cond.L = &p.mu
	p.prioCond.L = &p.mu
	p.mu.Lock()
	p.setLimitsLocked(min, max, prio)
	p.mu.Unlock()
	return p
}

// setLimits resizes the pool. Extra workers exit when they next go idle.
func (p *workerPool) setLimits(min, max, prio int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setLimitsLocked(min, max, prio)
	p.cond.Broadcast()
	p.prioCond.Broadcast()
}

func (p *workerPool) setLimitsLocked(min, max, prio int) {
	if max < 1 {
		max = 1
	}
	if min > max {
		min = max
	}
	p.min, p.max, p.prio = min, max, prio
	if p.quit {
		return
	}
	for p.nWorkers < p.min {
		p.spawnLocked(false)
	}
	for p.nPrio < p.prio {
		p.spawnLocked(true)
	}
}

func (p *workerPool) spawnLocked(prio bool) {
	if prio {
		p.nPrio++
	} else {
		p.nWorkers++
	}
	go p.worker(prio)
}

// submit queues a job. It never blocks: back-pressure is applied per client
// (max_client_requests) before a call is read.
func (p *workerPool) submit(j job) bool {
	p.mu.Lock()
	if p.quit {
		p.mu.Unlock()
		return false
	}
	p.queue = append(p.queue, j)
	if p.nFree < len(p.queue) && p.nWorkers < p.max {
		p.spawnLocked(false)
	}
	p.cond.Signal()
	if j.prio && p.nPrioFree > 0 {
		p.prioCond.Signal()
	}
	p.mu.Unlock()
	return true
}

// takeLocked removes the first job a worker of this kind may run: a
// high-priority one for a priority worker, and one whose owner is below its
// share of this kind of worker.
func (p *workerPool) takeLocked(prio bool) (job, bool) {
	kind, size := 0, p.max
	if prio {
		kind, size = 1, p.prio
	}
	share := ownerShare(size)
	for i, j := range p.queue {
		if prio && !j.prio {
			continue
		}
		if p.running[kind][j.owner] >= share {
			continue
		}
		copy(p.queue[i:], p.queue[i+1:])
		p.queue[len(p.queue)-1] = job{}
		p.queue = p.queue[:len(p.queue)-1]
		return j, true
	}
	return job{}, false
}

func (p *workerPool) worker(prio bool) {
	p.mu.Lock()
	for {
		if (!prio && p.nWorkers > p.max) || (prio && p.nPrio > p.prio) {
			break
		}
		j, ok := p.takeLocked(prio)
		if !ok {
			if p.quit {
				break
			}
			if prio {
				p.nPrioFree++
				p.prioCond.Wait()
				p.nPrioFree--
			} else {
				p.nFree++
				p.cond.Wait()
				p.nFree--
			}
			continue
		}
		kind := 0
		if prio {
			kind = 1
		}
		p.running[kind][j.owner]++
		p.mu.Unlock()
		j.run()
		p.mu.Lock()
		if p.running[kind][j.owner]--; p.running[kind][j.owner] == 0 {
			delete(p.running[kind], j.owner)
		}
		if len(p.queue) > 0 {
			// A job held back by its owner's share may run now.
			p.cond.Broadcast()
			p.prioCond.Broadcast()
		}
	}
	if prio {
		p.nPrio--
	} else {
		p.nWorkers--
	}
	p.mu.Unlock()
}

// stop makes every worker exit once the queue holds nothing for it; queued
// jobs still run.
func (p *workerPool) stop() {
	p.mu.Lock()
	p.quit = true
	p.cond.Broadcast()
	p.prioCond.Broadcast()
	p.mu.Unlock()
}

// ThreadPoolInfo is the admin view of the worker pool
// (virAdmServerGetThreadPoolParameters).
type ThreadPoolInfo struct {
	MinWorkers, MaxWorkers, PrioWorkers  uint
	NWorkers, FreeWorkers, JobQueueDepth uint
}

func (p *workerPool) info() ThreadPoolInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ThreadPoolInfo{
		MinWorkers: uint(p.min), MaxWorkers: uint(p.max), PrioWorkers: uint(p.prio),
		NWorkers: uint(p.nWorkers), FreeWorkers: uint(p.nFree), JobQueueDepth: uint(len(p.queue)),
	}
}
