package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

// TestHygieneQueriesUseIndexes reads SQLite's plan of every hygiene list:
// no list scans a whole table; across every organization each list pages
// in the order of an index (no sort); the keyset cursor bounds the range
// it reads (no OFFSET-like skipping). Within one organization the lists
// start from its projects and sort only that organization's candidates.
func TestHygieneQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	plan := func(query string, args []any) string {
		rows, err := d.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatalf("explain %s: %v", query, err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		return strings.Join(lines, "\n")
	}
	before := time.Now()
	cursor := domain.Cursor{Key: "1700000000000000", ID: "c18rs36olv9021epsv2g"}
	check := func(name, p string, global bool, wantIndex string) {
		t.Helper()
		for _, line := range strings.Split(p, "\n") {
			for _, table := range []string{"k", "sa", "p", "o", "m", "keys", "service_accounts", "projects", "project_members", "organization_members"} {
				if line == "SCAN "+table || strings.HasPrefix(line, "SCAN "+table+" ") {
					t.Errorf("%s scans a whole table:\n%s", name, p)
				}
			}
		}
		if global && strings.Contains(p, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("%s sorts instead of reading an index in order:\n%s", name, p)
		}
		if wantIndex != "" && !strings.Contains(p, wantIndex) {
			t.Errorf("%s does not use %s:\n%s", name, wantIndex, p)
		}
	}
	for _, scope := range []struct {
		name      string
		org, proj string
	}{{"global", "", ""}, {"organization", "c18rs36olv9021epsv2a", ""}, {"project", "", "c18rs36olv9021epsv2b"}} {
		global := scope.org == "" && scope.proj == ""
		for _, list := range []domain.HygieneList{domain.ListUnusedKeys, domain.ListOldKeys} {
			for _, after := range []domain.Cursor{{}, cursor} {
				q, args, err := hygieneKeysQuery(domain.HygieneQuery{List: list, OrganizationID: scope.org, ProjectID: scope.proj, Before: before}, after, 51)
				if err != nil {
					t.Fatal(err)
				}
				want := ""
				if global {
					want = map[domain.HygieneList]string{domain.ListUnusedKeys: "keys_by_activity", domain.ListOldKeys: "keys_by_create_time"}[list]
					if !after.IsZero() {
						// The cursor is the range's lower bound.
						want += map[domain.HygieneList]string{domain.ListUnusedKeys: " (<expr>>? AND <expr><?)",
							domain.ListOldKeys: " (create_time>? AND create_time<?)"}[list]
					}
				}
				check(scope.name+" "+string(list), plan(q, args), global, want)
			}
		}
		for _, list := range []domain.HygieneList{domain.ListBasicAuth, domain.ListAdminAccounts, domain.ListKeylessAccount, domain.ListUnboundAccount} {
			q, args, err := hygieneAccountsQuery(domain.HygieneQuery{List: list, OrganizationID: scope.org, ProjectID: scope.proj}, cursor.ID, 51)
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if global {
				want = map[domain.HygieneList]string{domain.ListBasicAuth: "service_accounts_basic_auth (id>?)",
					domain.ListAdminAccounts: "project_members_sa_admin", domain.ListKeylessAccount: "(id>?)",
					domain.ListUnboundAccount: "(id>?)"}[list]
			}
			check(scope.name+" "+string(list), plan(q, args), global, want)
		}
	}
}
