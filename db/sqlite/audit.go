package sqlite

import (
	"context"

	"studio/domain"
)

func (t *writeTx) AddAudit(ctx context.Context, e domain.AuditEntry) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO audit_log (time, actor_type, actor_id, actor_email, actor_staff, action,
		target_type, target_id, target_name, organization_id, project_id, remote_addr, reason, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		micros(e.Time), string(e.ActorType), e.ActorID, e.ActorEmail, e.ActorStaff, e.Action,
		e.TargetType, e.TargetID, e.TargetName, e.OrganizationID, e.ProjectID, e.RemoteAddr, e.Reason, e.Detail)
	return err
}

func (q queries) ListAudit(ctx context.Context, f domain.AuditFilter, beforeID int64, limit int) ([]domain.AuditEntry, error) {
	query := `SELECT id, time, actor_type, actor_id, actor_email, actor_staff, action, target_type, target_id,
		target_name, organization_id, project_id, remote_addr, reason, detail FROM audit_log WHERE 1 = 1`
	var args []any
	if f.OrganizationID != "" {
		query += " AND organization_id = ?"
		args = append(args, f.OrganizationID)
	}
	if f.ProjectID != "" {
		query += " AND project_id = ?"
		args = append(args, f.ProjectID)
	}
	if f.Actor != "" {
		query += " AND (actor_email = ? OR actor_id = ?)"
		args = append(args, f.Actor, f.Actor)
	}
	if f.Action != "" {
		query += " AND action = ?"
		args = append(args, f.Action)
	}
	if !f.Since.IsZero() {
		query += " AND time >= ?"
		args = append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		query += " AND time < ?"
		args = append(args, micros(f.Until))
	}
	if beforeID > 0 {
		query += " AND id < ?"
		args = append(args, beforeID)
	}
	query += " ORDER BY id DESC LIMIT ?"
	rows, err := q.q.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.AuditEntry
	for rows.Next() {
		var e domain.AuditEntry
		var at int64
		var actorType string
		if err := rows.Scan(&e.ID, &at, &actorType, &e.ActorID, &e.ActorEmail, &e.ActorStaff, &e.Action, &e.TargetType,
			&e.TargetID, &e.TargetName, &e.OrganizationID, &e.ProjectID, &e.RemoteAddr, &e.Reason, &e.Detail); err != nil {
			return nil, err
		}
		e.Time, e.ActorType = fromMicros(at), domain.AccountType(actorType)
		out = append(out, e)
	}
	return out, rows.Err()
}
