package sqlite

import (
	"context"
	"time"

	"studio/domain"
)

// projectCountsQuery counts, each up to ?3, through the indexes by project
// (service_accounts_by_project_name, project_members_by_project) and by
// account (keys_by_account); never a whole table. The three warnings
// filter the project's accounts (and keys) as they go: they read at most
// the project's rows, and stop at the cap.
const projectCountsQuery = `SELECT
	(SELECT count(*) FROM (SELECT 1 FROM service_accounts sa WHERE sa.project_id = ?1 LIMIT ?3)),
	(SELECT count(*) FROM (SELECT 1 FROM service_accounts sa JOIN keys k ON k.service_account_id = sa.id
		WHERE sa.project_id = ?1 LIMIT ?3)),
	(SELECT count(*) FROM (SELECT 1 FROM project_members WHERE project_id = ?1 LIMIT ?3)),
	(SELECT count(*) FROM (SELECT 1 FROM service_accounts sa JOIN keys k ON k.service_account_id = sa.id
		WHERE sa.project_id = ?1 AND ` + hygieneActivity + ` < ?2 LIMIT ?3)),
	(SELECT count(*) FROM (SELECT 1 FROM service_accounts sa WHERE sa.project_id = ?1 AND sa.enable_basic_auth = 1 LIMIT ?3)),
	(SELECT count(*) FROM (SELECT 1 FROM service_accounts sa WHERE sa.project_id = ?1 AND ` + hygieneHoldsAdmin + ` LIMIT ?3))`

// ProjectCounts counts a project's service accounts, keys, members and
// hygiene warnings in one statement; the warnings use the hygiene lists'
// rules.
func (q queries) ProjectCounts(ctx context.Context, projectID string, unusedBefore time.Time, limit int) (domain.ProjectCounts, error) {
	var c domain.ProjectCounts
	err := q.q.QueryRowContext(ctx, projectCountsQuery,
		projectID, micros(unusedBefore), limit).Scan(&c.ServiceAccounts, &c.Keys, &c.Members, &c.UnusedKeys, &c.BasicAuthAccounts, &c.AdminAccounts)
	return c, err
}
