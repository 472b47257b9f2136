package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"studio/domain"
)

// projectLabelsColumn reads a project's labels as one JSON object ('{}'
// when none) in the statement that reads the project.
const projectLabelsColumn = `(SELECT coalesce(json_group_object(l.key, l.value), '{}') FROM project_labels l WHERE l.project_id = p.id)`

// decodeLabels reads what projectLabelsColumn made.
func decodeLabels(raw string) (map[string]string, error) {
	labels := map[string]string{}
	if raw == "" {
		return labels, nil
	}
	if err := json.Unmarshal([]byte(raw), &labels); err != nil {
		return nil, fmt.Errorf("read project labels: %w", err)
	}
	return labels, nil
}

// withLabelFilters keeps the projects (aliased p) that have every label of
// filters; the lookups use the label table's primary key.
func withLabelFilters(query string, args []any, filters []domain.LabelFilter) (string, []any) {
	for _, f := range filters {
		if f.AnyValue {
			query += " AND EXISTS (SELECT 1 FROM project_labels l WHERE l.project_id = p.id AND l.key = ?)"
			args = append(args, f.Key)
			continue
		}
		query += " AND EXISTS (SELECT 1 FROM project_labels l WHERE l.project_id = p.id AND l.key = ? AND l.value = ?)"
		args = append(args, f.Key, f.Value)
	}
	return query, args
}

func (t *writeTx) SetProjectLabels(ctx context.Context, projectID string, labels map[string]string) error {
	if _, err := t.q.ExecContext(ctx, "DELETE FROM project_labels WHERE project_id = ?", projectID); err != nil {
		return err
	}
	return t.insertProjectLabels(ctx, projectID, labels)
}

func (t *writeTx) insertProjectLabels(ctx context.Context, projectID string, labels map[string]string) error {
	for k, v := range labels {
		if _, err := t.q.ExecContext(ctx, "INSERT INTO project_labels (project_id, key, value) VALUES (?, ?, ?)", projectID, k, v); err != nil {
			return err
		}
	}
	return nil
}
