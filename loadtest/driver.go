package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// measure drives every route of s (those --routes selects) at each
// concurrency and adds the points to rep. Each point is --repeat rounds,
// each the server and then its baseline for --duration: interleaved, so
// that both see the same machine, however busy it is. A route that cannot
// run is skipped with a note.
func measure(ctx context.Context, o options, tmp string, s *setup, srv *server, client *http.Client, rep *report) error {
	for _, t := range s.targets() {
		if o.routes != nil && !o.routes[t.name] {
			continue
		}
		if t.skip != "" {
			rep.Meta.Notes = append(rep.Meta.Notes, fmt.Sprintf("%s (%s) skipped: %s", t.name, t.title, t.skip))
			logf("skip %s: %s", t.name, t.skip)
			continue
		}
		captured, err := s.capture(t)
		if err != nil {
			rep.Meta.Notes = append(rep.Meta.Notes, fmt.Sprintf("%s (%s) skipped: %v", t.name, t.title, err))
			logf("skip %s: %v", t.name, err)
			continue
		}
		bl, err := startBaseline(ctx, o, tmp, t, captured)
		if err != nil {
			return err
		}
		rep.Meta.BaselineCPUs = allowedCPUs(bl.pid())
		rep.Routes = append(rep.Routes, routeInfo{Name: t.name, Title: t.title, Method: t.method, Path: t.path, Bytes: len(captured.body)})
		for _, c := range o.concurrency {
			if ctx.Err() != nil {
				bl.close()
				return ctx.Err()
			}
			p := point{Route: t.name, Concurrency: c, OtherCPU: -1}
			for range o.repeat {
				before := sampleCPU(srv.cmd.Process.Pid, bl.pid())
				x := drive(ctx, client, s.base, t, c, o.warmup, o.duration, srv.cmd.Process.Pid)
				m, _ := readMemory(srv.cmd.Process.Pid)
				y := drive(ctx, client, bl.url, t, c, o.warmup, o.duration, bl.pid())
				p.OtherCPU = max(p.OtherCPU, otherCPU(before, sampleCPU(srv.cmd.Process.Pid, bl.pid())))
				p.Rounds = append(p.Rounds, round{Server: x, Baseline: y})
				p.RSSMiB, p.HWMMiB = max(p.RSSMiB, m.RSS), max(p.HWMMiB, m.HWM)
			}
			p.summarize()
			rep.Points = append(rep.Points, p)
			rep.PeakHWMMiB = max(rep.PeakHWMMiB, p.HWMMiB)
			logf("%-14s c=%-4d %8.0f req/s p50 %6.2f ms p99 %7.2f ms %s/req errors %d | baseline %8.0f req/s %s/req | share %s | RSS %.0f MiB | other CPU %.0f%%",
				t.name, c, p.Server.ReqPerSec, p.Server.P50ms, p.Server.P99ms, cpuMs(p.Server.CPUPerReqMs), p.Server.Errors,
				p.Baseline.ReqPerSec, cpuMs(p.Baseline.CPUPerReqMs), shareRange(p.shares()), p.RSSMiB, p.OtherCPU)
			if p.Server.FirstError != "" {
				logf("  first server error: %s", p.Server.FirstError)
			}
		}
		bl.close()
	}
	return nil
}

// newClient is the HTTP client of every measurement: enough idle
// connections for the highest concurrency, no compression, no redirects.
// close drops its idle connections.
func newClient(concurrency []int) (client *http.Client, close func()) {
	maxConc := 1
	for _, c := range concurrency {
		maxConc = max(maxConc, c)
	}
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0, // no overall limit
		MaxIdleConnsPerHost: maxConc + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	client = &http.Client{
		Transport:     transport,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return client, transport.CloseIdleConnections
}

// stats is one measured run, of the server or of a baseline.
type stats struct {
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	ReqPerSec float64 `json:"reqPerSec"`
	P50ms     float64 `json:"p50ms"`
	P99ms     float64 `json:"p99ms"`
	// CPUPerReqMs is the serving process's CPU time (utime+stime) during
	// the run over the requests it answered; -1 when unknown.
	CPUPerReqMs float64 `json:"cpuPerReqMs"`
	FirstError  string  `json:"firstError,omitempty"`
}

// drive runs c clients in closed loops against base+t.path for d (after an
// unmeasured warmup) and returns throughput (200 answers per second), the
// latency percentiles of the 200 answers, and the CPU time process pid
// spent per answer. Any other answer is an error.
func drive(ctx context.Context, client *http.Client, base string, t target, c int, warmup, d time.Duration, pid int) stats {
	if warmup > 0 {
		load(ctx, client, base, t, c, warmup)
	}
	before, ok1 := procTicks(strconv.Itoa(pid))
	st := load(ctx, client, base, t, c, d)
	after, ok2 := procTicks(strconv.Itoa(pid))
	st.CPUPerReqMs = -1
	if ok1 && ok2 && st.Requests+st.Errors > 0 {
		st.CPUPerReqMs = float64(after-before) * msPerTick / float64(st.Requests+st.Errors)
	}
	return st
}

func load(ctx context.Context, client *http.Client, base string, t target, c int, d time.Duration) stats {
	type result struct {
		lat      []time.Duration
		errors   int
		firstErr string
	}
	results := make([]result, c)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(r *result) {
			defer wg.Done()
			r.lat = make([]time.Duration, 0, 4096)
			fail := func(msg string) {
				r.errors++
				if r.firstErr == "" {
					r.firstErr = msg
				}
			}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req, err := t.request(ctx, base)
				if err != nil {
					fail(err.Error())
					return
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						fail(err.Error())
						time.Sleep(time.Millisecond) // no hot loop on a dead server
					}
					continue
				}
				var snippet []byte
				if resp.StatusCode != http.StatusOK {
					snippet, _ = io.ReadAll(io.LimitReader(resp.Body, 200))
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				el := time.Since(t0)
				switch {
				case err != nil:
					fail("reading the body: " + err.Error())
				case resp.StatusCode != http.StatusOK:
					fail(fmt.Sprintf("status %d: %s", resp.StatusCode, bytes.TrimSpace(snippet)))
				default:
					r.lat = append(r.lat, el)
				}
			}
		}(&results[w])
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	var st stats
	for _, r := range results {
		all = append(all, r.lat...)
		st.Errors += r.errors
		if st.FirstError == "" {
			st.FirstError = r.firstErr
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	st.Requests = len(all)
	st.ReqPerSec = float64(len(all)) / elapsed.Seconds()
	st.P50ms, st.P99ms = percentile(all, 0.50), percentile(all, 0.99)
	return st
}

// percentile is the nearest-rank percentile of sorted durations, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Millisecond)
}
