package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// Labels are stored with the project, read back on every read, filter the
// list, and go with the project when it is deleted.
func TestProjectLabelsStoredAndFiltered(t *testing.T) {
	e := newEnv(t)
	s := e.orgSetup()
	name := "Gamma"
	gamma, err := e.projects.CreateProject(e.ctx, s.principal, s.org.ID, domain.ProjectInput{DisplayName: &name,
		Labels: map[string]string{"env": "prod", "team": "field ops", "flagged": "", `q"uote`: "ø \"x\""}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.store.ProjectByID(e.ctx, gamma.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"env": "prod", "team": "field ops", "flagged": "", `q"uote`: "ø \"x\""}; !equalLabels(got.Labels, want) {
		t.Errorf("labels read back %q, want %q", got.Labels, want)
	}
	if alpha, _ := e.store.ProjectByID(e.ctx, s.alpha.ID); alpha.Labels == nil || len(alpha.Labels) != 0 {
		t.Errorf("a project without labels reads %#v, want an empty map", alpha.Labels)
	}
	if err := e.projects.BatchUpdateLabels(e.ctx, s.principal, []string{s.alpha.ID}, domain.LabelChange{Add: map[string]string{"env": "test"}}); err != nil {
		t.Fatal(err)
	}

	list := func(filters ...string) []string {
		t.Helper()
		fs, err := domain.ParseLabelFilters(filters)
		if err != nil {
			t.Fatal(err)
		}
		page, err := e.projects.ListProjects(e.ctx, s.principal, s.org.ID, "", domain.PageRequest{}, fs...)
		if err != nil {
			t.Fatal(err)
		}
		return projectNames(page.Items)
	}
	for _, c := range []struct {
		filters []string
		want    string
	}{
		{nil, "[Alpha Beta Gamma Inventory]"},
		{[]string{"env=prod"}, "[Gamma]"},
		{[]string{"env=test"}, "[Alpha]"},
		{[]string{"env"}, "[Alpha Gamma]"},
		{[]string{"env="}, "[Alpha Gamma]"},
		{[]string{"env", "team=field ops"}, "[Gamma]"},
		{[]string{"env=test", "team=field ops"}, "[]"},
		{[]string{"flagged"}, "[Gamma]"},
		{[]string{"env=PROD"}, "[]"},
	} {
		if got := list(c.filters...); strings.Join(got, " ") != strings.Trim(c.want, "[]") {
			t.Errorf("filters %q: %v, want %s", c.filters, got, c.want)
		}
	}

	// Deleting the project deletes its labels.
	if err := e.projects.DeleteProject(e.ctx, s.principal, gamma.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM project_labels WHERE project_id = ?", gamma.ID); n != 0 {
		t.Errorf("%d labels left of a deleted project", n)
	}
}

// The label filter is served by an index, not a scan of every label.
func TestProjectLabelFilterUsesIndex(t *testing.T) {
	e := newEnv(t)
	var plan strings.Builder
	rows, err := e.raw.QueryContext(e.ctx, `EXPLAIN QUERY PLAN SELECT 1 FROM projects p WHERE
		EXISTS (SELECT 1 FROM project_labels l WHERE l.project_id = p.id AND l.key = ? AND l.value = ?)`, "env", "prod")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(detail + "\n")
	}
	if strings.Contains(plan.String(), "SCAN l") || !strings.Contains(plan.String(), "project_labels") {
		t.Errorf("label filter plan scans the labels:\n%s", plan.String())
	}
}

// Migration 011 keeps the coordinates given before it and turns the 0, 0
// stored for "none" into NULL.
func TestMigration011NullCoordinates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "studio.db")
	raw := openRaw(t, path)
	for _, stmt := range []string{"PRAGMA foreign_keys = ON", `CREATE TABLE schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`} {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range migrationFilesOnDisk(t) {
		v, _ := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if v >= 11 {
			continue
		}
		body, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := raw.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (?, ?, 1)", v, name); err != nil {
			t.Fatal(err)
		}
	}
	org := domain.NewID(time.Now())
	ids := []string{domain.NewID(time.Now().Add(time.Second)), domain.NewID(time.Now().Add(2 * time.Second)), domain.NewID(time.Now().Add(3 * time.Second))}
	for _, stmt := range []string{
		`INSERT INTO organizations VALUES ('` + org + `', 'Acme', 'acme', 1)`,
		`INSERT INTO projects (id, organization_id, display_name, name_key, inventory, latitude, longitude, time_location, create_time, update_time) VALUES
			('` + ids[0] + `', '` + org + `', 'Inventory', 'inventory', 1, 0, 0, '', 1, 1),
			('` + ids[1] + `', '` + org + `', 'Oslo', 'oslo', 0, 59.91, 10.75, 'Europe/Oslo', 1, 1),
			('` + ids[2] + `', '` + org + `', 'Equator', 'equator', 0, 0, 10.5, 'UTC', 1, 1)`,
	} {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open (migrating): %v", err)
	}
	defer store.Close()
	want := map[string]string{ids[0]: "<nil> <nil> ", ids[1]: "59.91 10.75 Europe/Oslo", ids[2]: "0 10.5 UTC"}
	for id, w := range want {
		p, err := store.ProjectByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := locationText(p.Location); got != w {
			t.Errorf("project %s location %q after migration, want %q", p.DisplayName, got, w)
		}
		if p.Labels == nil || len(p.Labels) != 0 {
			t.Errorf("project %s labels %#v, want none", p.DisplayName, p.Labels)
		}
	}
	// The columns keep their place in the schema's CHECKs and the table stays STRICT.
	if _, err := raw.ExecContext(ctx, "UPDATE projects SET latitude = 'north' WHERE id = ?", ids[1]); err == nil {
		t.Error("a text latitude was stored: the table is no longer STRICT")
	}
}

func locationText(l domain.Location) string {
	f := func(p *float64) string {
		if p == nil {
			return "<nil>"
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	return f(l.Latitude) + " " + f(l.Longitude) + " " + l.TimeLocation
}

func equalLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
