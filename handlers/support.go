package handlers

import (
	"context"
	"fmt"
	"net/http"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// The support console is for support staff only: the domain answers
// everyone else with not-found, so the console does not reveal itself.

// Support finds accounts by email, start of an email, or id.
func (h *Handlers) Support(c echo.Context) error {
	query := c.QueryParam("q")
	results, err := h.support.Find(c.Request().Context(), principal(c), query)
	status, s := http.StatusOK, views.SupportSearchPage{Query: query, Results: results}
	if isInvalid(err) {
		status, s.Errors = http.StatusBadRequest, domain.FieldErrors(err)
	} else if err != nil {
		return err
	}
	return render(c, status, views.SupportSearch(h.page(c, "Support console"), s))
}

// SupportAccount shows one account: its memberships, keys, state and the actions.
func (h *Handlers) SupportAccount(c echo.Context) error {
	acct, err := h.support.View(c.Request().Context(), principal(c), c.Param("member"))
	if err != nil {
		return err
	}
	return h.renderSupportAccount(c, http.StatusOK, views.SupportAccountPage{Account: acct})
}

func (h *Handlers) renderSupportAccount(c echo.Context, status int, a views.SupportAccountPage) error {
	a.Self = a.Account.User != nil && a.Account.User.ID == currentUser(c).ID
	if u := a.Account.User; u != nil && h.secondFactors != nil {
		sf, err := h.secondFactors.ForStaff(c.Request().Context(), principal(c), u.ID)
		if err != nil {
			return err
		}
		a.SecondFactor = &sf
	}
	a.Now = h.serviceAccounts.Now()
	title := a.Account.Summary.Email + " · Support"
	return render(c, status, views.SupportAccount(h.page(c, title), a))
}

// supportAction runs one staff action on the account named in the URL. On
// success it says what happened and goes back to the account's page; a
// refused action shows the page again with the message beside its form and
// the reason as typed, having changed nothing.
func (h *Handlers) supportAction(c echo.Context, form string,
	act func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error)) error {
	ctx, p, member := c.Request().Context(), principal(c), c.Param("member")
	// Loading first refuses non-staff (not found) before anything else.
	acct, err := h.support.Account(ctx, p, member)
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	message, err := act(ctx, p, acct, reason)
	switch {
	case err == nil:
		h.setFlash(c, "success", message)
		return redirect(c, views.SupportAccountURL(member))
	case isInvalid(err):
		fresh, lerr := h.support.Account(ctx, p, member)
		if lerr != nil {
			return lerr
		}
		a := views.SupportAccountPage{Account: fresh, Failed: form, Reason: reason, Errors: domain.FieldErrors(err)}
		if len(a.Errors) == 0 {
			a.FormError = domain.ErrorMessage(err)
		}
		return h.renderSupportAccount(c, http.StatusUnprocessableEntity, a)
	case domain.ErrorCode(err) == domain.ENOTFOUND:
		// The membership or key is gone already (another tab, another staff member).
		h.setFlash(c, "error", "Nothing changed: "+domain.ErrorMessage(err)+" It may have been removed meanwhile.")
		return redirect(c, views.SupportAccountURL(member))
	}
	return err
}

// findMembership finds the account's membership in an organization (project "") or a project.
func findMembership(acct domain.SupportAccount, orgID, projectID string) (domain.Membership, bool) {
	for _, m := range acct.Memberships {
		if m.ProjectID == projectID && (projectID != "" || m.OrganizationID == orgID) {
			return m, true
		}
	}
	return domain.Membership{}, false
}

// SupportRemoveMembership removes one membership of an account.
func (h *Handlers) SupportRemoveMembership(c echo.Context) error {
	orgID, projectID := c.FormValue("org"), c.FormValue("project")
	return h.supportAction(c, views.SupportFormMembership(orgID, projectID),
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			if orgID == "" && projectID == "" {
				return "", domain.ErrNotFound("Membership")
			}
			if err := h.support.RemoveMembership(ctx, p, acct.Summary.Account.ID, orgID, projectID, reason); err != nil {
				return "", err
			}
			where := "that membership"
			if m, ok := findMembership(acct, orgID, projectID); ok {
				where = "the " + domain.RoleDisplayName(m.Role) + " role in " + views.MembershipWhere(m)
			}
			return "Removed " + where + " from " + acct.Summary.Email + ".", nil
		})
}

// SupportRemoveAllAccess removes every membership of an account.
func (h *Handlers) SupportRemoveAllAccess(c echo.Context) error {
	return h.supportAction(c, views.SupportFormRemoveAll,
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			n, err := h.support.RemoveAllAccess(ctx, p, acct.Summary.Account.ID, reason)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Removed all access of %s: %d membership(s).", acct.Summary.Email, n), nil
		})
}

// SupportDeleteKey deletes one key of a service account.
func (h *Handlers) SupportDeleteKey(c echo.Context) error {
	keyID := c.Param("key")
	return h.supportAction(c, views.SupportFormKey(keyID),
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			if err := h.support.DeleteKey(ctx, p, acct.Summary.Account.ID, keyID, reason); err != nil {
				return "", err
			}
			return "Key " + keyID + " of " + acct.Summary.Email + " deleted.", nil
		})
}

// SupportBasicAuthOff switches Basic Auth off for a service account.
func (h *Handlers) SupportBasicAuthOff(c echo.Context) error {
	return h.supportAction(c, views.SupportFormBasicAuthOff,
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			if err := h.support.DisableBasicAuth(ctx, p, acct.Summary.Account.ID, reason); err != nil {
				return "", err
			}
			return "Basic Auth is off for " + acct.Summary.Email + ".", nil
		})
}

// SupportLock locks a user: signed out everywhere, sign-in refused.
func (h *Handlers) SupportLock(c echo.Context) error {
	return h.supportAction(c, views.SupportFormLock,
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			if err := h.support.SetLocked(ctx, p, acct.Summary.Account.ID, true, reason); err != nil {
				return "", err
			}
			return acct.Summary.Email + " is locked and signed out everywhere.", nil
		})
}

// SupportUnlock lets a locked user sign in again.
func (h *Handlers) SupportUnlock(c echo.Context) error {
	return h.supportAction(c, views.SupportFormUnlock,
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			if err := h.support.SetLocked(ctx, p, acct.Summary.Account.ID, false, reason); err != nil {
				return "", err
			}
			return acct.Summary.Email + " is unlocked and can sign in again.", nil
		})
}

// SupportDisableServiceAccount disables a service account, with a reason.
func (h *Handlers) SupportDisableServiceAccount(c echo.Context) error {
	return h.supportSetDisabled(c, true)
}

// SupportEnableServiceAccount enables a disabled service account, with a reason.
func (h *Handlers) SupportEnableServiceAccount(c echo.Context) error {
	return h.supportSetDisabled(c, false)
}

func (h *Handlers) supportSetDisabled(c echo.Context, disabled bool) error {
	return h.supportAction(c, views.SupportFormAccountState,
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			if err := h.support.SetServiceAccountDisabled(ctx, p, acct.Summary.Account.ID, disabled, reason); err != nil {
				return "", err
			}
			if disabled {
				return acct.Summary.Email + " is disabled: all its keys and tokens are refused.", nil
			}
			return acct.Summary.Email + " is enabled again.", nil
		})
}

// SupportDisableKey disables one key of a service account, with a reason.
func (h *Handlers) SupportDisableKey(c echo.Context) error { return h.supportSetKeyDisabled(c, true) }

// SupportEnableKey enables a disabled key again, with a reason.
func (h *Handlers) SupportEnableKey(c echo.Context) error { return h.supportSetKeyDisabled(c, false) }

func (h *Handlers) supportSetKeyDisabled(c echo.Context, disabled bool) error {
	keyID := c.Param("key")
	return h.supportAction(c, views.SupportFormKeyState(keyID),
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			if err := h.support.SetKeyDisabled(ctx, p, acct.Summary.Account.ID, keyID, disabled, reason); err != nil {
				return "", err
			}
			if disabled {
				return "Key " + keyID + " of " + acct.Summary.Email + " is disabled.", nil
			}
			return "Key " + keyID + " of " + acct.Summary.Email + " is enabled again.", nil
		})
}
