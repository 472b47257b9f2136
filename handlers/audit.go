package handlers

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// auditDate is how audit filter dates are written.
const auditDate = "2006-01-02"

// maxAuditAction bounds the action filter's text.
const maxAuditAction = 100

// readAuditFilter reads the audit filters from the URL query: what was
// written (to show it again), the filter, and a message per bad value.
func readAuditFilter(c echo.Context) (views.AuditFilterForm, domain.AuditFilter, map[string]string) {
	form := views.AuditFilterForm{
		Actor:   strings.TrimSpace(c.QueryParam("actor")),
		Action:  strings.TrimSpace(c.QueryParam("action")),
		Project: strings.TrimSpace(c.QueryParam("project")),
		Since:   strings.TrimSpace(c.QueryParam("since")),
		Until:   strings.TrimSpace(c.QueryParam("until")),
	}
	errs := map[string]string{}
	// Emails, user ids and service account ids are stored in lower case.
	f := domain.AuditFilter{Actor: strings.ToLower(form.Actor), Action: strings.ToLower(form.Action), ProjectID: form.Project}
	if len(f.Actor) > domain.MaxEmailLength {
		errs["actor"] = "The email or id is too long."
	}
	if utf8.RuneCountInString(f.Action) > maxAuditAction {
		errs["action"] = "The action is too long. Pick one from the list, for example " + domain.ActionMembershipDelete + "."
	}
	if f.ProjectID != "" && !domain.ValidID(f.ProjectID) {
		errs["project"] = "This is not a project id: a project id has 20 characters, digits and the letters a to v."
	}
	day := func(field, s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(auditDate, s, time.UTC)
		if err != nil {
			errs[field] = "“" + s + "” is not a date. Write it as YYYY-MM-DD, for example 2025-03-31."
			return time.Time{}
		}
		return t
	}
	f.Since = day("since", form.Since)
	if until := day("until", form.Until); !until.IsZero() {
		f.Until = until.AddDate(0, 0, 1) // the whole day is included
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		errs["until"] = "The end date is before the start date."
	}
	if len(errs) == 0 {
		errs = nil
	}
	return form, f, errs
}

// listAudit runs one audit list with the request's filters. With bad
// filters it lists nothing (the list call then only checks permission, so
// a refused caller is still refused) and returns their messages.
func listAudit(c echo.Context, list func(domain.AuditFilter, domain.PageRequest) (domain.Page[domain.AuditEntry], error)) (views.AuditPage, int, error) {
	form, f, errs := readAuditFilter(c)
	req := pageRequest(c, consolePageSize)
	a := views.AuditPage{Filter: form, First: req.Token == ""}
	if errs != nil {
		if _, err := list(domain.AuditFilter{}, domain.PageRequest{Size: 1}); err != nil {
			return a, 0, err
		}
		a.Errors = errs
		return a, http.StatusBadRequest, nil
	}
	entries, err := list(f, req)
	if isInvalid(err) {
		// A bad or foreign page token.
		a.Errors = domain.FieldErrors(err)
		if len(a.Errors) == 0 {
			a.Errors = map[string]string{"pageToken": domain.ErrorMessage(err)}
		}
		return a, http.StatusBadRequest, nil
	}
	if err != nil {
		return a, 0, err
	}
	a.Entries = entries
	return a, http.StatusOK, nil
}

// OrganizationAudit shows an organization's audit log to its admins, filtered and paged.
func (h *Handlers) OrganizationAudit(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	orgID := c.Param("org")
	a, status, err := listAudit(c, func(f domain.AuditFilter, req domain.PageRequest) (domain.Page[domain.AuditEntry], error) {
		return h.audit.ListOrganization(ctx, p, orgID, f, req)
	})
	if err != nil {
		return err
	}
	org, err := h.projects.Organization(ctx, p, orgID)
	if err != nil {
		return err
	}
	a.Org = org.Organization
	page := h.page(c, "Audit log · "+org.DisplayName)
	page.Org, page.OrgAdm = &org.Organization, org.IsAdmin
	return render(c, status, views.Audit(page, a))
}

// SupportAudit shows support staff the audit log of every organization, filtered and paged.
func (h *Handlers) SupportAudit(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	a, status, err := listAudit(c, func(f domain.AuditFilter, req domain.PageRequest) (domain.Page[domain.AuditEntry], error) {
		return h.support.Audit(ctx, p, f, req)
	})
	if err != nil {
		return err
	}
	return render(c, status, views.Audit(h.page(c, "Global audit log"), a))
}
