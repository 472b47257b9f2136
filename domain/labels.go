package domain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Labels tag a resource (a project now, devices later) with key → value
// pairs, as the original's device labels do: a key holds one value, a
// key-only label holds "", adding a key that exists replaces its value,
// and removing a key that is not there succeeds. The rules below are the
// one place that says what a key and a value may be, for every resource
// with labels and for both faces (API and console).
const (
	// MaxLabels bounds the labels of one resource.
	MaxLabels = 100
	// MaxLabelKeyLength and MaxLabelValueLength bound a key and a value, in characters.
	MaxLabelKeyLength   = 128
	MaxLabelValueLength = 256
)

// CheckLabelKey checks one label key: not empty, at most 128 characters,
// no "=" (a filter is written key=value), no spaces at either end, no
// control or invisible characters. field names the field in the error.
func CheckLabelKey(field, key string) error {
	switch {
	case key == "":
		return FieldError(field, "A label key cannot be empty.")
	case !utf8.ValidString(key):
		return FieldError(field, "The label key contains invalid characters.")
	case utf8.RuneCountInString(key) > MaxLabelKeyLength:
		return FieldError(field, fmt.Sprintf("A label key can be at most %d characters long.", MaxLabelKeyLength))
	case strings.TrimSpace(key) != key:
		return FieldError(field, fmt.Sprintf("The label key %q begins or ends with a space.", key))
	case strings.Contains(key, "="):
		return FieldError(field, fmt.Sprintf("The label key %q contains \"=\", which separates a key from its value in a filter.", key))
	}
	return checkLabelRunes(field, "key", key)
}

// CheckLabelValue checks one label value: at most 256 characters, no
// control or invisible characters; "" is a key-only label.
func CheckLabelValue(field, key, value string) error {
	switch {
	case !utf8.ValidString(value):
		return FieldError(field, fmt.Sprintf("The value of label %q contains invalid characters.", key))
	case utf8.RuneCountInString(value) > MaxLabelValueLength:
		return FieldError(field, fmt.Sprintf("The value of label %q can be at most %d characters long.", key, MaxLabelValueLength))
	}
	return checkLabelRunes(field, fmt.Sprintf("value of label %q", key), value)
}

func checkLabelRunes(field, what, s string) error {
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return FieldError(field, fmt.Sprintf("The label %s cannot contain control characters such as line breaks or tabs.", what))
		case unicode.Is(unicode.Cf, r):
			return FieldError(field, fmt.Sprintf("The label %s cannot contain invisible characters (%U).", what, r))
		}
	}
	return nil
}

// CheckLabels checks a whole set of labels and returns a copy of it
// (never nil: no labels is the empty set).
func CheckLabels(field string, labels map[string]string) (map[string]string, error) {
	if len(labels) > MaxLabels {
		return nil, FieldError(field, fmt.Sprintf("A resource can have at most %d labels; this one would have %d.", MaxLabels, len(labels)))
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if err := CheckLabelKey(field, k); err != nil {
			return nil, err
		}
		if err := CheckLabelValue(field, k, labels[k]); err != nil {
			return nil, err
		}
	}
	out := make(map[string]string, len(labels))
	maps.Copy(out, labels)
	return out, nil
}

// LabelChange adds (or replaces) and removes labels.
type LabelChange struct {
	Add    map[string]string
	Remove []string
}

// Check refuses a change that changes nothing, a bad key or value, and a
// key both added and removed (which of the two was meant?).
func (ch LabelChange) Check() error {
	if len(ch.Add) == 0 && len(ch.Remove) == 0 {
		return Errorf(EINVALID, "Name at least one label in addLabels or removeLabels.")
	}
	for _, k := range slices.Sorted(maps.Keys(ch.Add)) {
		if err := CheckLabelKey("addLabels", k); err != nil {
			return err
		}
		if err := CheckLabelValue("addLabels", k, ch.Add[k]); err != nil {
			return err
		}
	}
	for _, k := range ch.Remove {
		if err := CheckLabelKey("removeLabels", k); err != nil {
			return err
		}
		if _, both := ch.Add[k]; both {
			return FieldError("removeLabels", fmt.Sprintf("The label %q is both added and removed: name it in one of the two.", k))
		}
	}
	return nil
}

// Apply returns labels with the change made, and a description of what
// changed ("" when nothing did). labels itself is left as it is.
func (ch LabelChange) Apply(labels map[string]string) (map[string]string, string) {
	out := make(map[string]string, len(labels)+len(ch.Add))
	maps.Copy(out, labels)
	var said []string
	for _, k := range slices.Sorted(maps.Keys(ch.Add)) {
		if old, had := out[k]; !had || old != ch.Add[k] {
			said = append(said, "+"+labelText(k, ch.Add[k]))
			out[k] = ch.Add[k]
		}
	}
	for _, k := range slices.Sorted(slices.Values(ch.Remove)) {
		if old, had := out[k]; had {
			said = append(said, "-"+labelText(k, old))
			delete(out, k)
		}
	}
	if len(said) == 0 {
		return out, ""
	}
	return out, "labels: " + strings.Join(said, ", ")
}

// LabelsChange describes the change from one set of labels to another for
// the audit log ("" when they are the same).
func LabelsChange(from, to map[string]string) string {
	var remove []string
	for k := range from {
		if _, kept := to[k]; !kept {
			remove = append(remove, k)
		}
	}
	_, said := LabelChange{Add: to, Remove: remove}.Apply(from)
	return said
}

func labelText(k, v string) string {
	if v == "" {
		return k
	}
	return k + "=" + v
}

// LabelFilter selects the resources that have a label: with Value, when
// AnyValue is false; with any value when it is true.
type LabelFilter struct {
	Key      string
	Value    string
	AnyValue bool
}

// ParseLabelFilter reads a filter as the device API writes it:
// "key=value" for that value, "key" or "key=" for any value.
func ParseLabelFilter(s string) (LabelFilter, error) {
	key, value, hasValue := strings.Cut(s, "=")
	if err := CheckLabelKey("labels", key); err != nil {
		return LabelFilter{}, FieldError("labels", fmt.Sprintf("The label filter %q is not key=value: %s", s, ErrorMessage(err)))
	}
	if err := CheckLabelValue("labels", key, value); err != nil {
		return LabelFilter{}, err
	}
	return LabelFilter{Key: key, Value: value, AnyValue: !hasValue || value == ""}, nil
}

// String writes the filter as ParseLabelFilter reads it.
func (f LabelFilter) String() string {
	if f.AnyValue {
		return f.Key
	}
	return f.Key + "=" + f.Value
}

// ParseLabelFilters reads several filters (all must match) and sorts them,
// so the same filters in another order make the same listing.
func ParseLabelFilters(list []string) ([]LabelFilter, error) {
	if len(list) > MaxLabels {
		return nil, FieldError("labels", fmt.Sprintf("At most %d label filters.", MaxLabels))
	}
	var out []LabelFilter
	for _, s := range list {
		f, err := ParseLabelFilter(s)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b LabelFilter) int { return strings.Compare(a.String(), b.String()) })
	return slices.CompactFunc(out, func(a, b LabelFilter) bool { return a == b }), nil
}

// MaxBatchItems bounds the items of one batch request (project labels,
// members): one transaction, all or nothing.
const MaxBatchItems = 1000

// BatchUpdateLabels changes the labels of several projects in one
// transaction: if the principal may not update one of them (or one would
// end with too many labels), nothing changes.
func (s *Projects) BatchUpdateLabels(ctx context.Context, p Principal, projectIDs []string, ch LabelChange) error {
	if err := checkBatchSize("projects", len(projectIDs)); err != nil {
		return err
	}
	if err := ch.Check(); err != nil {
		return err
	}
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		seen := make(map[string]bool, len(projectIDs))
		for i, id := range projectIDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			if _, err := changeLabels(ctx, tx, p, now, id, ch, "addLabels"); err != nil {
				return batchItemError(err, "projects", i)
			}
		}
		return nil
	})
}

// AddProjectLabel sets one label of a project (adds it, or changes its
// value), as the console's form does. field names the form's fields:
// "labelKey" and "labelValue".
func (s *Projects) AddProjectLabel(ctx context.Context, p Principal, projectID, key, value string) (Project, error) {
	// Refuse an outsider before looking at the input, as a read would.
	if _, err := authorizeProject(ctx, s.store, p, projectID, OpProjectUpdate); err != nil {
		return Project{}, err
	}
	if err := CheckLabelKey("labelKey", key); err != nil {
		return Project{}, err
	}
	if err := CheckLabelValue("labelValue", key, value); err != nil {
		return Project{}, err
	}
	return s.changeOneProject(ctx, p, projectID, LabelChange{Add: map[string]string{key: value}}, "labelKey")
}

// RemoveProjectLabel removes one label of a project; a key it does not
// have is no error.
func (s *Projects) RemoveProjectLabel(ctx context.Context, p Principal, projectID, key string) (Project, error) {
	if _, err := authorizeProject(ctx, s.store, p, projectID, OpProjectUpdate); err != nil {
		return Project{}, err
	}
	if err := CheckLabelKey("labelKey", key); err != nil {
		return Project{}, err
	}
	return s.changeOneProject(ctx, p, projectID, LabelChange{Remove: []string{key}}, "labelKey")
}

func (s *Projects) changeOneProject(ctx context.Context, p Principal, projectID string, ch LabelChange, field string) (Project, error) {
	var proj Project
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		proj, err = changeLabels(ctx, tx, p, s.now(), projectID, ch, field)
		return err
	})
	return proj, err
}

// changeLabels makes one project's label change inside a transaction,
// checking the principal may update it, with its audit entry. field
// names the field blamed when the project would have too many labels.
func changeLabels(ctx context.Context, tx Tx, p Principal, now time.Time, projectID string, ch LabelChange, field string) (Project, error) {
	a, err := authorizeProject(ctx, tx, p, projectID, OpProjectUpdate)
	if err != nil {
		return Project{}, err
	}
	proj := a.Project
	labels, said := ch.Apply(proj.Labels)
	if said == "" {
		return proj, nil
	}
	if len(labels) > MaxLabels {
		return Project{}, FieldError(field, fmt.Sprintf("A project can have at most %d labels: remove one first.", MaxLabels))
	}
	if err := tx.SetProjectLabels(ctx, proj.ID, labels); err != nil {
		return Project{}, err
	}
	proj.Labels, proj.UpdateTime = labels, now
	if err := tx.UpdateProject(ctx, proj); err != nil {
		return Project{}, err
	}
	e := auditEntry(p, now, ActionProjectUpdate, "project", proj.ID, proj.DisplayName)
	e.OrganizationID, e.ProjectID, e.Detail = proj.OrganizationID, proj.ID, said
	return proj, tx.AddAudit(ctx, e)
}

// checkBatchSize refuses an empty batch and one over MaxBatchItems,
// naming the limit.
func checkBatchSize(field string, n int) error {
	switch {
	case n == 0:
		return FieldError(field, fmt.Sprintf("%s must name at least one item.", field))
	case n > MaxBatchItems:
		return FieldError(field, fmt.Sprintf("A batch takes at most %d items in %s; this one has %d.", MaxBatchItems, field, n))
	}
	return nil
}

// batchItemError says which item of a batch was refused, keeping the
// refusal's code (and so its HTTP status).
func batchItemError(err error, field string, i int) error {
	var de *Error
	if !errors.As(err, &de) {
		return err
	}
	out := *de
	out.Message = fmt.Sprintf("%s[%d]: %s", field, i, de.Message)
	return &out
}
