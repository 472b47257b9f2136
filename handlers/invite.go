package handlers

import (
	"net/http"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// inviteHeaders keep the page of an invite link out of caches and its
// address (which holds the token) out of Referer headers.
func inviteHeaders(c echo.Context) {
	noStore(c)
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
}

// InvitePage shows what opening an invite link asks (domain.InviteMode):
// a name and password for an account without one, or signing in as the
// account it is for. A link that is unknown, replaced, used or expired
// gets a friendly page saying so, with the domain's message.
func (h *Handlers) InvitePage(c echo.Context) error {
	inviteHeaders(c)
	link, err := h.members.OpenInvitation(c.Request().Context(), c.Param("token"))
	if err != nil {
		return h.inviteError(c, err)
	}
	return h.renderInvite(c, http.StatusOK, views.InviteForm{Link: link})
}

func (h *Handlers) renderInvite(c echo.Context, status int, f views.InviteForm) error {
	f.Token = c.Param("token")
	if cur := currentUser(c); cur != nil {
		f.SignedInAs = cur.Email
	}
	return render(c, status, views.AcceptInvite(h.page(c, "Accept invitation"), f))
}

// inviteError shows a link that does not work (not found) or a locked
// account (forbidden) on the friendly page; anything else goes to the
// error handler.
func (h *Handlers) inviteError(c echo.Context, err error) error {
	switch domain.ErrorCode(err) {
	case domain.ENOTFOUND:
		return render(c, http.StatusNotFound, views.InviteInvalid(h.page(c, "Invite link not valid"), domain.ErrorMessage(err)))
	case domain.EFORBIDDEN:
		return render(c, http.StatusForbidden, views.InviteInvalid(h.page(c, "Invite link not valid"), domain.ErrorMessage(err)))
	}
	return err
}

// AcceptInvite accepts the link's one membership, in the way its page
// offered: "accept" as the signed-in user it is for, "signin" with that
// account's password (through the sign-in throttle), or else by setting
// the name and password. Each way ends signed in as that user with a new session.
func (h *Handlers) AcceptInvite(c echo.Context) error {
	inviteHeaders(c)
	switch c.FormValue("action") {
	case "accept":
		return h.acceptInviteAsCurrent(c)
	case "signin":
		return h.acceptInviteBySignIn(c)
	}
	return h.acceptInviteWithPassword(c)
}

func (h *Handlers) acceptInviteWithPassword(c echo.Context) error {
	ctx, token := c.Request().Context(), c.Param("token")
	name := c.FormValue("name")
	// Read first for where the invitation leads: once accepted, the link
	// tells nothing more.
	before, err := h.members.OpenInvitation(ctx, token)
	if err != nil {
		return h.inviteError(c, err)
	}
	u, err := h.members.AcceptInvitation(ctx, token, name, c.FormValue("password"), c.FormValue("confirm"), c.RealIP())
	if code := domain.ErrorCode(err); code == domain.EINVALID || code == domain.EFORBIDDEN {
		// Shown again with the message: a field to fix, or (forbidden)
		// an account that must sign in instead.
		link, lerr := h.members.OpenInvitation(ctx, token)
		if lerr != nil {
			return h.inviteError(c, lerr)
		}
		status := http.StatusUnprocessableEntity
		if code == domain.EFORBIDDEN {
			status = http.StatusForbidden
		}
		return h.renderInvite(c, status, views.InviteForm{Link: link, Name: name, Errors: formErrors(err)})
	}
	if err != nil {
		return h.inviteError(c, err)
	}
	if err := h.startSession(c, u.ID); err != nil {
		return err
	}
	Logger(c).Info("invitation accepted", "user_id", u.ID)
	h.setFlash(c, "success", "Welcome to Studio, "+u.DisplayName+"! Your invitation is accepted and you are signed in.")
	return redirect(c, inviteTarget(before))
}

func (h *Handlers) acceptInviteBySignIn(c echo.Context) error {
	ctx, token := c.Request().Context(), c.Param("token")
	link, err := h.members.OpenInvitation(ctx, token)
	if err != nil {
		return h.inviteError(c, err)
	}
	step, err := h.signInWithPassword(c, link.User.Email, c.FormValue("password"))
	if err != nil {
		status := http.StatusUnauthorized
		switch domain.ErrorCode(err) {
		case domain.ERATELIMITED:
			status = http.StatusTooManyRequests
		case domain.EFORBIDDEN:
			status = http.StatusForbidden
		case domain.EUNAUTHORIZED:
		default:
			return err
		}
		Logger(c).Info("sign-in to accept an invitation refused", "code", domain.ErrorCode(err))
		return h.renderInvite(c, status, views.InviteForm{Link: link, SignInError: domain.ErrorMessage(err)})
	}
	if !step.Done() {
		// The second factor first; then the invitation's page again, to
		// accept it signed in.
		return h.continueSignIn(c, step, "/invite/"+c.Param("token"))
	}
	if err := h.signedIn(c, step); err != nil {
		return err
	}
	u := step.User
	c.Set(userKey, &u)
	return h.acceptInviteAsCurrent(c)
}

func (h *Handlers) acceptInviteAsCurrent(c echo.Context) error {
	if currentUser(c) == nil {
		// Signed out since the page was shown: show it again.
		return redirect(c, "/invite/"+c.Param("token"))
	}
	link, err := h.members.AcceptInvitationAs(c.Request().Context(), principal(c), c.Param("token"))
	if domain.ErrorCode(err) == domain.EFORBIDDEN {
		if link, lerr := h.members.OpenInvitation(c.Request().Context(), c.Param("token")); lerr == nil {
			return h.renderInvite(c, http.StatusForbidden, views.InviteForm{Link: link, Errors: formErrors(err)})
		}
	}
	if err != nil {
		return h.inviteError(c, err)
	}
	Logger(c).Info("invitation accepted", "user_id", link.User.ID)
	h.setFlash(c, "success", "Your invitation is accepted: you now have access to "+inviteWhere(link)+".")
	return redirect(c, inviteTarget(link))
}

// inviteTarget is where an accepted invitation leads: its project, or its
// organization. The address bar leaves the invite link, whose page would
// now only say that the link no longer works.
func inviteTarget(l domain.InviteLink) string {
	if l.Membership.ProjectID != "" {
		return "/projects/" + l.Membership.ProjectID
	}
	return "/orgs/" + l.Membership.OrganizationID
}

func inviteWhere(l domain.InviteLink) string {
	if l.ProjectName != "" {
		return "the project " + l.ProjectName + " of " + l.OrganizationName
	}
	return "the organization " + l.OrganizationName + " as organization admin"
}
