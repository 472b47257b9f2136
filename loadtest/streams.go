package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The stream run (--streams N): N event streams of the project stay open
// while events are published at --stream-rate a second through the
// emulator API; each event's updateTime is the moment it was sent, so each
// stream measures publish-to-receive latency from the event's timestamp.
// The server is pinned as for the other routes; this program reads every
// stream and publishes from the other CPU.

// streamResult is the outcome of a stream run.
type streamResult struct {
	Streams, Rate       int
	Duration            time.Duration
	Published, Received int64
	PublishErrors       int64
	StreamErrors        int64
	P50, P90, P99, Max  time.Duration
	ServerCPUPerEventMs float64
	PublishedPerSecond  float64
	DeliveredPerSecond  float64
	FirstError, Ended   string
	LoadStart, LoadEnd  []float64
	ServerCPUs, OwnCPUs string
}

// runStreams opens the streams, publishes for the warmup (unmeasured) and
// then for d, and gathers the latencies.
func (s *setup) runStreams(srv *server, n, rate int, warmup, d time.Duration) (streamResult, error) {
	res := streamResult{Streams: n, Rate: rate, Duration: d, LoadStart: loadAverage()}
	if len(s.deviceIDs) == 0 {
		return res, fmt.Errorf("the project has no devices to publish from: seed some with --seed-devices")
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	var measuring atomic.Bool
	var mu sync.Mutex
	var lat []time.Duration
	var received, streamErrors atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	opened := make(chan error, n)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n + 64, DisableCompression: true}}
	defer client.CloseIdleConnections()
	stampKey := []byte(`"timestamp":"`)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/v2/projects/"+s.projectID+"/devices:stream?event_types=temperature", nil)
			req.Header.Set("Authorization", s.bearer)
			resp, err := client.Do(req)
			if err == nil && resp.StatusCode != http.StatusOK {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
				resp.Body.Close()
				err = fmt.Errorf("stream: status %d: %s", resp.StatusCode, body)
			}
			opened <- err
			if err != nil {
				return
			}
			defer resp.Body.Close()
			local := make([]time.Duration, 0, 1<<14)
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				now := time.Now()
				line := sc.Bytes()
				if bytes.Contains(line, []byte(`"error"`)) {
					streamErrors.Add(1)
					firstErr.CompareAndSwap(nil, string(line))
					break
				}
				k := bytes.Index(line, stampKey)
				if k < 0 || len(line) < k+len(stampKey)+27 {
					continue
				}
				at, err := time.Parse(time.RFC3339Nano, string(line[k+len(stampKey):k+len(stampKey)+27]))
				if err != nil {
					continue
				}
				if measuring.Load() {
					local = append(local, now.Sub(at))
					received.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-opened; err != nil {
			return res, err
		}
	}
	logf("%d streams open; publishing %d events a second", n, rate)

	// The publishers: a paced schedule shared by workers.
	var published, publishErrors atomic.Int64
	tick := make(chan struct{}, rate)
	var pubWG sync.WaitGroup
	pubCtx, stopPublishing := context.WithCancel(ctx)
	for w := 0; w < 64; w++ {
		pubWG.Add(1)
		go func() {
			defer pubWG.Done()
			for {
				select {
				case <-pubCtx.Done():
					return
				case <-tick:
				}
				k := published.Add(1)
				id := s.deviceIDs[int(k)%len(s.deviceIDs)]
				body := fmt.Sprintf(`{"temperature":{"value":%d,"updateTime":%q}}`, k%30, time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"))
				req, _ := http.NewRequestWithContext(pubCtx, http.MethodPost, s.base+"/emulator/v2/projects/"+s.projectID+"/devices/"+id+":publish", strings.NewReader(body))
				req.Header.Set("Authorization", s.bearer)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					if pubCtx.Err() == nil {
						publishErrors.Add(1)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					publishErrors.Add(1)
				}
			}
		}()
	}
	pace := func(d time.Duration) {
		start := time.Now()
		sent := 0
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for time.Since(start) < d && ctx.Err() == nil {
			<-t.C
			due := int(time.Since(start).Seconds() * float64(rate))
			for ; sent < due; sent++ {
				select {
				case tick <- struct{}{}:
				default: // the publishers fell behind: the tick is lost and counted as not published
				}
			}
		}
	}
	pace(warmup)
	before, _ := procTicks(fmt.Sprint(srv.cmd.Process.Pid))
	pub0 := published.Load()
	measuring.Store(true)
	t0 := time.Now()
	pace(d)
	measuring.Store(false)
	elapsed := time.Since(t0)
	after, _ := procTicks(fmt.Sprint(srv.cmd.Process.Pid))
	res.Published = published.Load() - pub0
	time.Sleep(500 * time.Millisecond) // the last events reach the streams
	stopPublishing()
	pubWG.Wait()
	cancel()
	wg.Wait()
	res.Received = received.Load()
	res.PublishErrors, res.StreamErrors = publishErrors.Load(), streamErrors.Load()
	if v := firstErr.Load(); v != nil {
		res.FirstError = v.(string)
	}
	res.PublishedPerSecond = float64(res.Published) / elapsed.Seconds()
	res.DeliveredPerSecond = float64(res.Received) / elapsed.Seconds()
	if res.Published > 0 {
		res.ServerCPUPerEventMs = float64(after-before) * msPerTick / float64(res.Published)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	at := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	res.P50, res.P90, res.P99 = at(0.50), at(0.90), at(0.99)
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	res.LoadEnd = loadAverage()
	res.ServerCPUs, res.OwnCPUs = allowedCPUs(srv.cmd.Process.Pid), allowedCPUs(os.Getpid())
	return res, nil
}

func (r streamResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Event streams: %d open, %d events/s published for %s\n\n", r.Streams, r.Rate, r.Duration)
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min): %v at the start, %v at the end; server on CPUs %s\n", r.LoadStart, r.LoadEnd, r.ServerCPUs)
	fmt.Fprintf(&b, "- Published %d events (%.0f/s, %d refused or failed); received %d (%.0f/s over all streams; %d expected)\n",
		r.Published, r.PublishedPerSecond, r.PublishErrors, r.Received, r.DeliveredPerSecond, r.Published*int64(r.Streams))
	fmt.Fprintf(&b, "- Publish-to-receive latency: p50 %s, p90 %s, p99 %s, max %s\n", r.P50.Round(10*time.Microsecond),
		r.P90.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
	fmt.Fprintf(&b, "- Server CPU per published event (with its %d deliveries): %.3f ms\n", r.Streams, r.ServerCPUPerEventMs)
	if r.StreamErrors > 0 {
		fmt.Fprintf(&b, "- %d streams ended with an error line; the first: %s\n", r.StreamErrors, r.FirstError)
	}
	return b.String()
}
