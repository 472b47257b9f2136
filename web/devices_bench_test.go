package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"studio/domain"
)

// BenchmarkEmulatorPublish measures POST …/devices/{d}:publish through the
// whole server (router, auth, domain, group commit, SQLite), without the
// network: what one publish costs the server. Publishers run in parallel,
// so their events share commits as under load.
//
//	go test ./web -run xxx -bench EmulatorPublish -cpu 1 -benchtime 5000x
func BenchmarkEmulatorPublish(b *testing.B) {
	app := newApp(b, withRateLimit(1_000_000_000))
	ctx := context.Background()
	admin, _ := app.store.UserByEmail(ctx, adminEmail)
	p := domain.UserPrincipal(admin, "bench")
	inv := app.inventory()
	var ids []string
	for i := 0; i < 100; i++ {
		d, err := app.services.Devices.CreateEmulated(ctx, p, inv.ID, domain.EmulatedInput{Type: domain.DeviceTemperature})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	sa, err := app.services.ServiceAccounts.Create(ctx, p, inv.ID, domain.ServiceAccountInput{DisplayName: strPtr("Publisher"), EnableBasicAuth: boolPtr(true)})
	if err != nil {
		b.Fatal(err)
	}
	if err := app.services.ServiceAccounts.SetProjectRole(ctx, p, inv.ID, sa.ID, domain.RoleProjectDev); err != nil {
		b.Fatal(err)
	}
	key, secret, err := app.services.ServiceAccounts.CreateKey(ctx, p, inv.ID, sa.ID)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{}
	bearer := "Bearer " + benchToken(b, client, app, key.ID, secret, sa.Email)
	var n atomic.Int64
	b.SetParallelism(16)
	tx0 := app.statements.Transactions()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/emulator/v2/projects/%s/devices/%s:publish", inv.ID, ids[int(i)%len(ids)]),
				strings.NewReader(fmt.Sprintf(`{"temperature":{"value":%d}}`, i%40)))
			req.Header.Set("Authorization", bearer)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			app.echo.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/float64(max(1, app.statements.Transactions()-tx0)), "events/commit")
}

// deviceFleet is a project with n emulated temperature sensors, each with
// 100 events over the last day, made through the store in big batches.
type deviceFleet struct {
	app      *testApp
	project  domain.Project
	bearer   string
	cookie   *client
	deepAPI  string // the API list's page token 90 % down
	deepPage string // the console list's page token 90 % down
	device   string // a device with a day of history
}

func newDeviceFleet(b *testing.B, n int) *deviceFleet {
	app := newApp(b, withRateLimit(1_000_000_000))
	ctx := context.Background()
	admin, _ := app.store.UserByEmail(ctx, adminEmail)
	p := domain.UserPrincipal(admin, "bench")
	f := &deviceFleet{app: app, project: app.addProject(app.org.ID, "Fleet")}
	now := app.clock.Now()
	var devices []domain.Device
	var events []domain.Event
	flush := func() {
		if err := app.store.Update(ctx, func(tx domain.Tx) error {
			for _, d := range devices {
				if err := tx.CreateDevice(ctx, d); err != nil {
					return err
				}
			}
			return tx.AddEvents(ctx, events)
		}); err != nil {
			b.Fatal(err)
		}
		devices, events = devices[:0], events[:0]
	}
	for i := 0; i < n; i++ {
		d := domain.Device{ID: domain.NewEmulatedDeviceID(now), ProjectID: f.project.ID, Type: domain.DeviceTemperature, Emulated: true,
			Labels: map[string]string{"name": fmt.Sprintf("Device %07d", i)}, Reported: domain.Reported{}, CreateTime: now}
		for j := 0; j < 100; j++ {
			at := now.Add(-24*time.Hour + time.Duration(j)*24*time.Hour/100)
			body, _ := domain.ParseEventBody(domain.EventTemperature, []byte(fmt.Sprintf(`{"value":%d,"updateTime":%q}`, j%20, at.Format(time.RFC3339Nano))), now)
			events = append(events, domain.Event{ID: domain.NewID(at), DeviceID: d.ID, ProjectID: d.ProjectID, Type: domain.EventTemperature,
				Time: body.Time, Body: body.JSON, Value: body.Value, HasValue: true})
			d.Reported[domain.EventTemperature], d.LastSeen = body.JSON, body.Time
		}
		devices = append(devices, d)
		if len(events) >= 20000 {
			flush()
		}
	}
	flush()
	sa, err := app.services.ServiceAccounts.Create(ctx, p, f.project.ID, domain.ServiceAccountInput{DisplayName: strPtr("Reader"), EnableBasicAuth: boolPtr(true)})
	if err != nil {
		b.Fatal(err)
	}
	if err := app.services.ServiceAccounts.SetProjectRole(ctx, p, f.project.ID, sa.ID, domain.RoleProjectUser); err != nil {
		b.Fatal(err)
	}
	key, secret, err := app.services.ServiceAccounts.CreateKey(ctx, p, f.project.ID, sa.ID)
	if err != nil {
		b.Fatal(err)
	}
	f.bearer = "Bearer " + benchToken(b, &http.Client{}, app, key.ID, secret, sa.Email)
	f.cookie = app.signedIn(adminEmail)
	// The deep pages: 90 % down, a full page of 50 after.
	deep := min(n*9/10, n-50)
	for pos := 0; pos < deep; {
		size := min(1000, deep-pos)
		byID, err := app.services.Devices.List(ctx, p, f.project.ID, domain.DeviceQuery{}, domain.PageRequest{Size: size, Token: f.deepAPI})
		if err != nil {
			b.Fatal(err)
		}
		if pos == 0 {
			f.device = byID.Items[0].ID
		}
		f.deepAPI, pos = byID.NextPageToken, pos+size
	}
	token := ""
	for pos := 0; pos < deep; pos += 50 {
		page, err := app.services.Devices.List(ctx, p, f.project.ID, domain.DeviceQuery{ByDisplayName: true}, domain.PageRequest{Size: 50, Token: token})
		if err != nil {
			b.Fatal(err)
		}
		token = page.NextPageToken
	}
	f.deepPage = token
	return f
}

var fleets = map[int]*deviceFleet{}

// BenchmarkDeviceQueries measures the device list (first and deep page,
// API and console) and one device's day of history at 100 and at 10,000
// devices of 100 events each, through the whole server without the
// network, side by side in one run: the 10,000 figure should stay within
// 1.5× of the 100 one (keyset pages and the indexes by project and by
// device keep every request's work independent of the fleet's size).
//
//	go test ./web -run xxx -bench DeviceQueries -cpu 1 -count 3
func BenchmarkDeviceQueries(b *testing.B) {
	for _, n := range []int{100, 10000} {
		if fleets[n] == nil {
			fleets[n] = newDeviceFleet(b, n)
		}
	}
	now := time.Now().UTC()
	routes := []struct {
		name string
		path func(f *deviceFleet) string
		api  bool
	}{
		{"api-first", func(f *deviceFleet) string { return "/v2/projects/" + f.project.ID + "/devices?pageSize=50" }, true},
		{"api-deep", func(f *deviceFleet) string {
			return "/v2/projects/" + f.project.ID + "/devices?pageSize=50&pageToken=" + url.QueryEscape(f.deepAPI)
		}, true},
		{"console-first", func(f *deviceFleet) string { return "/projects/" + f.project.ID + "/devices" }, false},
		{"console-deep", func(f *deviceFleet) string {
			return "/projects/" + f.project.ID + "/devices?page=" + url.QueryEscape(f.deepPage)
		}, false},
		{"history-day", func(f *deviceFleet) string {
			return fmt.Sprintf("/v2/projects/%s/devices/%s/events?pageSize=1000&start_time=%s&end_time=%s", f.project.ID, f.device,
				now.Add(-25*time.Hour).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
		}, true},
	}
	for _, r := range routes {
		for _, n := range []int{100, 10000} {
			f := fleets[n]
			b.Run(fmt.Sprintf("%s/%d", r.name, n), func(b *testing.B) {
				path := r.path(f)
				// CPU time is steadier than wall time on a shared machine.
				cpu0 := processCPU()
				defer func() { b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op") }()
				for i := 0; i < b.N; i++ {
					req := httptest.NewRequest(http.MethodGet, path, nil)
					if r.api {
						req.Header.Set("Authorization", f.bearer)
					} else {
						for _, c := range f.cookie.http.Jar.Cookies(mustURL(f.app.srv.URL)) {
							req.AddCookie(c)
						}
					}
					rec := httptest.NewRecorder()
					f.app.echo.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%s: status %d: %.300s", path, rec.Code, rec.Body)
					}
				}
			})
		}
	}
}

// processCPU is the process's user and system CPU time so far, in ns.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkStreamFanout measures delivering published events to 100 open
// streams (JSON lines over loopback; the readers run in this process too,
// so compare runs with each other, not with the server alone).
//
//	go test ./web -run xxx -bench StreamFanout -cpu 1 -benchtime 3000x -cpuprofile fan.prof
func BenchmarkStreamFanout(b *testing.B) {
	app := newApp(b, withRateLimit(1_000_000_000))
	ctx := context.Background()
	admin, _ := app.store.UserByEmail(ctx, adminEmail)
	p := domain.UserPrincipal(admin, "bench")
	inv := app.inventory()
	var devs []domain.Device
	for i := 0; i < 20; i++ {
		d, err := app.services.Devices.CreateEmulated(ctx, p, inv.ID, domain.EmulatedInput{Type: domain.DeviceTemperature})
		if err != nil {
			b.Fatal(err)
		}
		devs = append(devs, d)
	}
	sa, _ := app.services.ServiceAccounts.Create(ctx, p, inv.ID, domain.ServiceAccountInput{DisplayName: strPtr("Reader"), EnableBasicAuth: boolPtr(true)})
	app.services.ServiceAccounts.SetProjectRole(ctx, p, inv.ID, sa.ID, domain.RoleProjectUser)
	key, secret, _ := app.services.ServiceAccounts.CreateKey(ctx, p, inv.ID, sa.ID)
	bearer := "Bearer " + benchToken(b, &http.Client{}, app, key.ID, secret, sa.Email)
	const streams = 100
	// The server without the tests' OpenAPI check of every response.
	srv := httptest.NewServer(app.echo)
	defer srv.Close()
	var got atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: streams, DisableCompression: true}}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	for i := 0; i < streams; i++ {
		req, _ := http.NewRequestWithContext(sctx, http.MethodGet, srv.URL+"/v2/projects/"+inv.ID+"/devices:stream", nil)
		req.Header.Set("Authorization", bearer)
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("stream: %v", err)
		}
		go func() {
			defer resp.Body.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := resp.Body.Read(buf)
				got.Add(int64(strings.Count(string(buf[:n]), "\n")))
				if err != nil {
					return
				}
			}
		}()
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	var n atomic.Int64
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for int(n.Add(1)) <= b.N {
				d := devs[int(n.Load())%len(devs)]
				if _, err := app.services.Devices.PublishEmulated(ctx, p, inv.ID, d.ID, []byte(`{"temperature":{"value":1}}`)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for deadline := time.Now().Add(10 * time.Second); got.Load() < int64(b.N*streams) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(got.Load())/float64(b.N), "deliveries/op")
	stop()
}
