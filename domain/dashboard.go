package domain

import (
	"context"
	"time"
)

// A project's dashboard (issue 16): what is there, and the credential
// hygiene warnings of that project, with links to act on them.

// ProjectCounts are a project's numbers, each counted up to a cap.
type ProjectCounts struct {
	ServiceAccounts int
	Keys            int
	Members         int
	// UnusedKeys are keys not used (or, never used, made) before the
	// unused-keys list's threshold; BasicAuthAccounts accept Basic Auth;
	// AdminAccounts hold Project admin or Organization admin anywhere. The
	// same rules as the hygiene lists of the same names.
	UnusedKeys        int
	BasicAuthAccounts int
	AdminAccounts     int
}

// DashboardCountCap bounds each count: a dashboard says "1,000+" rather
// than count a million rows on every visit.
const DashboardCountCap = 1000

// ProjectDashboard is what a project's dashboard shows.
type ProjectDashboard struct {
	Access Access
	Counts ProjectCounts
	// Cap is DashboardCountCap: a count that reaches it means "or more".
	Cap int
	// UnusedDays is the unused-keys threshold the count used.
	UnusedDays int
}

// ProjectDashboard counts what a project holds for anyone who may read it.
func (h *Hygiene) ProjectDashboard(ctx context.Context, p Principal, projectID string) (ProjectDashboard, error) {
	a, err := authorizeProject(ctx, h.store, p, projectID, OpServiceAccountRead)
	if err != nil {
		return ProjectDashboard{}, err
	}
	before := h.now().Add(-time.Duration(DefaultUnusedDays) * 24 * time.Hour)
	counts, err := h.store.ProjectCounts(ctx, a.Project.ID, before, DashboardCountCap)
	if err != nil {
		return ProjectDashboard{}, err
	}
	return ProjectDashboard{Access: a, Counts: counts, Cap: DashboardCountCap, UnusedDays: DefaultUnusedDays}, nil
}
