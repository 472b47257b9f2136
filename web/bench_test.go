package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"studio/domain"
)

// seedServiceAccounts adds n accounts named "Account 000000"… to project p
// in one transaction.
func (a *testApp) seedServiceAccounts(p domain.Project, n int) {
	a.t.Helper()
	ctx := context.Background()
	now := a.clock.Now()
	err := a.store.Update(ctx, func(tx domain.Tx) error {
		for i := 0; i < n; i++ {
			sa := domain.ServiceAccount{ID: domain.NewID(now), ProjectID: p.ID, DisplayName: fmt.Sprintf("Account %06d", i), CreateTime: now, UpdateTime: now}
			sa.Email = domain.ServiceAccountEmail(sa.ID, p.ID, "d21s.com")
			if err := tx.CreateServiceAccount(ctx, sa); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		a.t.Fatal(err)
	}
}

// BenchmarkServiceAccountListPage measures the console's list page (50
// rows, signed in, through the whole server) at 100 and 100,000 accounts
// in one project, on the first page and on a page deep in the list.
// Compare ns/op between the sub-benchmarks: they run on the same machine
// in the same run.
func BenchmarkServiceAccountListPage(b *testing.B) {
	for _, size := range []int{100, 100_000} {
		app := newApp(b)
		inv := app.inventory()
		app.seedServiceAccounts(inv, size)
		c := app.signedIn(adminEmail)
		base := "/projects/" + inv.ID + "/serviceaccounts"
		pages := map[string]string{"first": base}
		if size > 1000 {
			deep := domain.EncodeCursor(domain.ServiceAccountListing(inv.ID, ""), domain.Cursor{Key: fmt.Sprintf("account %06d", size*9/10), ID: ""})
			pages["deep"] = base + "?page=" + deep
		}
		// A search that matches few accounts reads the whole project's list.
		pages["search"] = base + fmt.Sprintf("?q=account+%06d", size-1)
		for _, name := range []string{"first", "deep", "search"} {
			path, ok := pages[name]
			if !ok {
				continue
			}
			b.Run(fmt.Sprintf("accounts=%d/%s", size, name), func(b *testing.B) {
				want := 50
				if name == "search" {
					want = 1
				}
				if r := c.get(path); r.status != http.StatusOK || r.doc.Find("[data-testid=sa-row]").Length() != want {
					b.Fatalf("status %d, %d rows", r.status, r.doc.Find("[data-testid=sa-row]").Length())
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					c.get(path)
				}
			})
		}
	}
}
