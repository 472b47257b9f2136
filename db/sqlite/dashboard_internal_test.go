package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProjectCountsUseIndexes: the dashboard's counts never scan a whole
// table; each starts from the project's rows of an index.
func TestProjectCountsUseIndexes(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+projectCountsQuery, "c18rs36olv9021epsv2b", micros(time.Now()), 1000)
	if err != nil {
		t.Fatal(err)
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
		for _, table := range []string{"sa", "k", "m", "keys", "service_accounts", "project_members", "organization_members"} {
			if detail == "SCAN "+table || strings.HasPrefix(detail, "SCAN "+table+" ") && !strings.Contains(detail, "USING") {
				t.Errorf("the counts scan %s: %s", table, detail)
			}
		}
	}
	plan := strings.Join(lines, "\n")
	for _, index := range []string{"service_accounts_by_project_name", "project_members_by_project", "keys_by_account"} {
		if !strings.Contains(plan, index) {
			t.Errorf("the counts do not use %s:\n%s", index, plan)
		}
	}
}

// TestFindAccountsUsesIndexes: the support search reads ranges of the
// email and name indexes (migration 010), never a whole table.
func TestFindAccountsUsesIndexes(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+findAccountsQuery, 0, "ro", "ro\uffff", 50, "ro", "ro\uffff", 50, "ro", "ro", "ro\uffff", 50, "ro", "ro\uffff", 50, 50)
	if err != nil {
		t.Fatal(err)
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
		if detail == "SCAN users" || detail == "SCAN service_accounts" {
			t.Errorf("the search scans a whole table: %s", detail)
		}
	}
	plan := strings.Join(lines, "\n")
	for _, index := range []string{"users_by_name", "service_accounts_by_name"} {
		if !strings.Contains(plan, index) {
			t.Errorf("the search does not use %s:\n%s", index, plan)
		}
	}
}
