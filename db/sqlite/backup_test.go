package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// TestBackupUnderWriteLoad takes a backup while writers commit, restores it
// (opens the copy as a database) and finds it whole: integrity ok, and
// every project in it complete with its organization.
func TestBackupUnderWriteLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "studio.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now().UTC()
	org := domain.Organization{ID: domain.NewID(now), DisplayName: "Load", CreateTime: now}
	if err := store.Update(ctx, func(tx domain.Tx) error { return tx.CreateOrganization(ctx, org) }); err != nil {
		t.Fatal(err)
	}
	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := domain.Project{ID: domain.NewID(now), OrganizationID: org.ID, DisplayName: fmt.Sprintf("w%d-%d", w, i), CreateTime: now, UpdateTime: now}
				err := store.Update(ctx, func(tx domain.Tx) error {
					if err := tx.CreateProject(ctx, p); err != nil {
						return err
					}
					return tx.AddAudit(ctx, domain.AuditEntry{Time: now, ActorType: domain.AccountUser, Action: domain.ActionProjectCreate,
						TargetType: "project", TargetID: p.ID, OrganizationID: org.ID, ProjectID: p.ID})
				})
				if err != nil {
					t.Error(err)
					return
				}
				acked.Add(1)
			}
		}(w)
	}
	// Wait for some acknowledged writes, but not for ever: writers that
	// fail stop early and would leave this loop spinning.
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	deadline := time.After(30 * time.Second)
	for acked.Load() < 200 {
		select {
		case <-writersDone:
			t.Fatalf("the writers stopped after %d acknowledged writes, before 200", acked.Load())
		case <-deadline:
			close(stop)
			<-writersDone
			t.Fatalf("only %d writes acknowledged after 30 s, want 200 before the backup", acked.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
	backup := filepath.Join(dir, "backup.db")
	before := acked.Load()
	if err := store.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	after := acked.Load()
	close(stop)
	<-writersDone
	if err := store.Backup(ctx, backup); err == nil {
		t.Fatal("a second backup overwrote the first")
	}

	restored, err := sqlite.Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if err := sqlite.CheckIntegrity(ctx, backup); err != nil {
		t.Fatal(err)
	}
	projects, err := restored.ListProjects(ctx, domain.ProjectFilter{OrganizationID: org.ID}, domain.Cursor{}, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(projects))
	if n < before || n > after {
		t.Fatalf("backup holds %d projects; %d were acknowledged before it started and %d when it ended", n, before, after)
	}
	audit, err := restored.ListAudit(ctx, domain.AuditFilter{OrganizationID: org.ID}, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(audit)) != n {
		t.Fatalf("backup holds %d projects but %d audit entries: a transaction was split", n, len(audit))
	}
	for _, p := range projects {
		if p.OrganizationDisplayName != "Load" {
			t.Fatalf("project %s lost its organization", p.ID)
		}
	}
}
