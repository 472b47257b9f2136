//go:build linux

package main

import (
	"context"
	"database/sql"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"studio/db/sqlite"
)

// TestCrashSafetyPublish publishes emulated events from many clients at
// once (so they are committed in shared batches), kills the server with
// SIGKILL at random moments, restarts it, and checks at the end that
// every event the emulator API acknowledged is in the history: a batched
// commit never acknowledges an event before it is durable.
func TestCrashSafetyPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills the real binary; skipped with -short")
	}
	const (
		cycles  = 6
		workers = 16
		devices = 8
	)
	dir := t.TempDir()
	bin := crashBuild(t, dir)
	dbPath := filepath.Join(dir, "studio.db")
	addr := crashFreeAddr(t)
	base := "http://" + addr
	srv := &crashServer{t: t, bin: bin, dbPath: dbPath, addr: addr, dir: dir}
	t.Cleanup(srv.kill)
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	creds := crashBootstrap(t, bin, dbPath, base)
	projectID := crashProjectOfEmail(t, creds.Email)
	api := &crashAPI{base: base, statuses: map[int]int{}, http: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: workers * 2, DisableCompression: true},
	}}
	t.Cleanup(api.http.CloseIdleConnections)
	tok, err := crashRetry(func() (string, error) { return api.exchange(t, creds) })
	if err != nil {
		t.Fatal(err)
	}
	api.token.Store(&tok)
	var ids []string
	for i := 0; i < devices; i++ {
		var d struct {
			Name string `json:"name"`
		}
		if _, err := api.call(context.Background(), http.MethodPost, "/emulator/v2/projects/"+projectID+"/devices", tok,
			map[string]any{"type": "temperature", "labels": map[string]string{"name": fmt.Sprint("Crash ", i)}}, &d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.Name[len(d.Name)-23:])
	}

	// Each publish carries a time of its own (a microsecond apart); the
	// acknowledged ones are kept.
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var seq atomic.Int64
	var mu sync.Mutex
	acked := map[string][]int64{} // device id → times (µs) acknowledged
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := seq.Add(1)
				id := ids[int(n)%len(ids)]
				at := start.Add(time.Duration(n) * time.Microsecond)
				body := map[string]any{"temperature": map[string]any{"value": n % 100, "updateTime": at.Format(time.RFC3339Nano)}}
				status, err := api.call(ctx, http.MethodPost, "/emulator/v2/projects/"+projectID+"/devices/"+id+":publish", *api.token.Load(), body, nil)
				if err == nil && status == http.StatusOK {
					mu.Lock()
					acked[id] = append(acked[id], at.UnixMicro())
					mu.Unlock()
				} else if err != nil {
					time.Sleep(5 * time.Millisecond) // the server is down: wait for it
				}
			}
		}()
	}
	for cycle := 1; cycle <= cycles; cycle++ {
		time.Sleep(150*time.Millisecond + mrand.N(500*time.Millisecond))
		srv.kill()
		if err := sqlite.CheckIntegrity(context.Background(), dbPath); err != nil {
			t.Fatalf("cycle %d: after SIGKILL: %v", cycle, err)
		}
		if err := srv.start(); err != nil {
			t.Fatalf("cycle %d: restart: %v", cycle, err)
		}
	}
	cancel()
	wg.Wait()
	srv.kill()

	raw, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	total, missing := 0, 0
	for id, values := range acked {
		stored := map[int64]bool{}
		rows, err := raw.Query("SELECT time FROM events WHERE device_id = ?", id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			stored[v] = true
		}
		rows.Close()
		for _, v := range values {
			total++
			if !stored[v] {
				missing++
				if missing <= 5 {
					t.Errorf("device %s: the acknowledged event at %d µs is not in the history", id, v)
				}
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged events lost", missing, total)
	}
	if total < 100 {
		t.Fatalf("only %d events were acknowledged: the load did not run", total)
	}
	if n := api.statuses[http.StatusBadRequest]; n > 0 {
		t.Errorf("%d publishes were refused as bad requests", n)
	}
	if n := api.serverErrors(); n > 0 {
		t.Errorf("%d publishes answered 5xx (%s):\n%s", n, api.statusSummary(), crashLogErrors(dir))
	}
	t.Logf("publish crash safety: %d SIGKILL/restart cycles, %d events acknowledged, all in the history; %d requests (%d failed on the connection); statuses %s",
		cycles, total, api.requests.Load(), api.connErrors.Load(), api.statusSummary())
}
