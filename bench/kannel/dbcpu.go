package main

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dbCPU measures the CPU the PostgreSQL server spends for a run: the
// backends connected to the run's database and the server's own writers
// (WAL writer, checkpointer, background writer, autovacuum), which work
// for whoever writes. Backends come and go with the pool, so their CPU
// is sampled while the run goes on and each one's last reading counts.
// It is an estimate in omnigate's disfavour: the writers also serve other
// databases of the server, idle while a run is measured quietly.
type dbCPU struct {
	url  string
	stop chan struct{}
	done chan struct{}

	mu    sync.Mutex
	first map[int]time.Duration // reading when first seen (0 for pids born during the run)
	last  map[int]time.Duration
}

func startDBCPU(url string) *dbCPU {
	d := &dbCPU{url: url, stop: make(chan struct{}), done: make(chan struct{}),
		first: map[int]time.Duration{}, last: map[int]time.Duration{}}
	d.sample(true)
	go d.loop()
	return d
}

func (d *dbCPU) loop() {
	defer close(d.done)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.sample(false)
		}
	}
}

// sample reads every relevant pid's CPU; at the start, every pid found is
// a baseline, later a new pid counts from zero.
func (d *dbCPU) sample(atStart bool) {
	pids := d.pids()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, pid := range pids {
		c := cpuTime(pid)
		if c == 0 {
			continue
		}
		if _, seen := d.first[pid]; !seen {
			d.first[pid] = 0
			if atStart {
				d.first[pid] = c
			}
		}
		d.last[pid] = c
	}
}

// pids are the run database's backends and the server's writers.
func (d *dbCPU) pids() []int {
	var pids []int
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "psql", d.url, "-Atc",
		"SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").Output()
	if err == nil {
		for f := range strings.FieldsSeq(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.HasPrefix(string(cmd), "postgres: ") {
			continue
		}
		for _, w := range []string{"walwriter", "checkpointer", "background writer", "autovacuum"} {
			if strings.Contains(string(cmd), w) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// finish stops sampling and returns the CPU seconds used.
func (d *dbCPU) finish() float64 {
	d.sample(false)
	close(d.stop)
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	var total time.Duration
	for pid, c := range d.last {
		total += c - d.first[pid]
	}
	return total.Seconds()
}
