package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"studio/domain"
	"studio/internal/jwtbearer"

	"github.com/labstack/echo/v4"
)

// BenchmarkAPIListServiceAccounts measures GET /v2/projects/{p}/serviceaccounts
// (a page of 100 of 1,000 accounts) through the whole server with Basic and
// with Bearer auth, against a baseline: a bare Echo handler writing the same
// response bytes from memory, measured in the same run. Compare the
// req/s metrics: the ratio is what this code costs over HTTP itself.
//
//	go test ./web -run xxx -bench APIListServiceAccounts -cpu 2
func BenchmarkAPIListServiceAccounts(b *testing.B) {
	app := newApp(b, withRateLimit(1_000_000_000))
	inv := app.inventory()
	app.seedServiceAccounts(inv, benchAccounts())
	ctx := context.Background()
	sealer, _ := domain.NewSealer([]byte("an AES-256 key of 32 bytes......"))
	svc := domain.NewServiceAccounts(app.store, sealer, app.clock.Now, "d21s.com")
	admin, _ := app.store.UserByEmail(ctx, adminEmail)
	p := domain.UserPrincipal(admin, "bench")
	caller, err := svc.Create(ctx, p, inv.ID, domain.ServiceAccountInput{DisplayName: strPtr("Bench caller"), EnableBasicAuth: boolPtr(true)})
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.SetProjectRole(ctx, p, inv.ID, caller.ID, domain.RoleProjectUser); err != nil {
		b.Fatal(err)
	}
	key, secret, err := svc.CreateKey(ctx, p, inv.ID, caller.ID)
	if err != nil {
		b.Fatal(err)
	}
	path := "/v2/projects/" + inv.ID + "/serviceaccounts"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(key.ID+":"+secret))
	bearer := "Bearer " + benchToken(b, client, app, key.ID, secret, caller.Email)
	body := benchGet(b, client, app.srv.URL+path, basic)

	// The baseline: the same bytes from memory, no auth, no database.
	e := echo.New()
	e.GET(path, func(c echo.Context) error { return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body) })
	baseline := httptest.NewServer(e)
	defer baseline.Close()

	for _, tc := range []struct{ name, url, auth string }{
		{"baseline", baseline.URL + path, ""},
		{"basic", app.srv.URL + path, basic},
		{"bearer", app.srv.URL + path, bearer},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetParallelism(32) // 32 × GOMAXPROCS concurrent clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchGet(b, client, tc.url, tc.auth)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

func strPtr(s string) *string { return &s }
func boolPtr(v bool) *bool    { return &v }

func benchGet(b *testing.B, client *http.Client, url, auth string) []byte {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return body
}

func benchToken(b *testing.B, client *http.Client, app *testApp, keyID, secret, email string) string {
	form := url.Values{"grant_type": {jwtbearer.GrantType},
		"assertion": {jwtbearer.Assertion(keyID, secret, email, "http://studio.test/oauth2/token", app.clock.Now())}}
	resp, err := client.Post(app.srv.URL+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		b.Fatalf("token exchange: status %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// benchAccounts is how many accounts the API benchmark seeds:
// STUDIO_BENCH_ACCOUNTS, or 1,000.
func benchAccounts() int {
	if n, err := strconv.Atoi(os.Getenv("STUDIO_BENCH_ACCOUNTS")); err == nil && n > 0 {
		return n
	}
	return 1000
}

// BenchmarkTokenExchange measures POST /oauth2/token with 64 concurrent
// clients (SetParallelism 32 × 2 cores): each exchange stores a token.
func BenchmarkTokenExchange(b *testing.B) {
	app := newApp(b, withRateLimit(1_000_000_000))
	inv := app.inventory()
	ctx := context.Background()
	sealer, _ := domain.NewSealer([]byte("an AES-256 key of 32 bytes......"))
	svc := domain.NewServiceAccounts(app.store, sealer, app.clock.Now, "d21s.com")
	admin, _ := app.store.UserByEmail(ctx, adminEmail)
	p := domain.UserPrincipal(admin, "bench")
	caller, err := svc.Create(ctx, p, inv.ID, domain.ServiceAccountInput{DisplayName: strPtr("Token bench")})
	if err != nil {
		b.Fatal(err)
	}
	key, secret, err := svc.CreateKey(ctx, p, inv.ID, caller.ID)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	benchToken(b, client, app, key.ID, secret, caller.Email) // fails the benchmark if the exchange does not work
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchToken(b, client, app, key.ID, secret, caller.Email)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
