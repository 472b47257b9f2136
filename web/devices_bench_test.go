package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

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
