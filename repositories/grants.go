package repositories

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// Grants is the view of the OAuth2 grants a user has given: per client, the
// live tokens issued to it for that user (tables oauth_refresh_tokens,
// oauth_access_tokens and oauth_authorization_codes). It owns no table of
// its own; it is what a "connected apps" page and an operator's
// `authstore grant` commands read and revoke.
type Grants struct {
	base
}

// NewGrants returns the grants repository over db.
func NewGrants(db *gorm.DB, opts Options) *Grants {
	return &Grants{base: newBase(db, opts)}
}

// WithTx returns a copy of g whose methods run inside tx (as savepoints),
// so a caller can combine repositories in one transaction.
func (g *Grants) WithTx(tx *gorm.DB) *Grants {
	return &Grants{base: g.withTx(tx)}
}

// Grant is one client a user has authorized, as ListForUser reports it.
type Grant struct {
	// ClientID and ClientName identify the client.
	ClientID   models.UUID
	ClientName string
	// Scopes is the union of the scopes of the grant's live tokens,
	// sorted.
	Scopes models.Strings
	// FirstGrantedAt is when the oldest live grant began: the issue of the
	// first refresh token of its family (kept by rotation), or of its
	// oldest live token when that first token is gone.
	FirstGrantedAt time.Time
	// LastUsedAt is when the newest live token was issued (an exchange or
	// a rotation issues one each time the client uses the grant).
	LastUsedAt time.Time
}

// ListForUser returns the clients a user has authorized and not lost: every
// active (unrevoked) client for which the user holds a live token, that is
// an unrevoked, unexpired access token or an unrevoked, unexpired, unused
// refresh token, with the union of the scopes of those tokens, when the
// grant began and when a token was last issued. Clients come oldest grant
// first. An expired or revoked grant is not listed; client credentials
// tokens belong to no user and never are.
//
// It reads without a transaction, in a few single statements, so it works
// on a read-only database. It returns ErrInvalidInput for a malformed user
// id, and an empty list for a user who has authorized nothing (an unknown
// user included).
func (g *Grants) ListForUser(ctx context.Context, userID models.UUID) ([]Grant, error) {
	const op = "list grants"
	if err := validID("user id", userID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	now := g.now()
	db := g.conn(ctx)
	liveRefresh := db.Model(&models.RefreshToken{}).
		Where("user_id = ?", userID).Where("revoked = ?", false).Where("used_at IS NULL").Where("expires_at > ?", now)
	liveAccess := db.Model(&models.AccessToken{}).
		Where("user_id = ?", userID).Where("revoked = ?", false).Where("expires_at > ?", now)

	var refresh []models.RefreshToken
	if err := liveRefresh.Session(&gorm.Session{}).Select("client_id", "family_id", "scopes", "created_at").Find(&refresh).Error; err != nil {
		return nil, Translate(op, err)
	}
	var access []models.AccessToken
	if err := liveAccess.Session(&gorm.Session{}).Select("client_id", "family_id", "scopes", "created_at").Find(&access).Error; err != nil {
		return nil, Translate(op, err)
	}
	if len(refresh) == 0 && len(access) == 0 {
		return []Grant{}, nil
	}

	byClient := map[models.UUID]*Grant{}
	see := func(clientID models.UUID, scopes models.Strings, created time.Time) {
		gr := byClient[clientID]
		if gr == nil {
			gr = &Grant{ClientID: clientID, FirstGrantedAt: created, LastUsedAt: created}
			byClient[clientID] = gr
		}
		for _, s := range scopes {
			if !gr.Scopes.Contains(s) {
				gr.Scopes = append(gr.Scopes, s)
			}
		}
		if created.Before(gr.FirstGrantedAt) {
			gr.FirstGrantedAt = created
		}
		if created.After(gr.LastUsedAt) {
			gr.LastUsedAt = created
		}
	}
	for _, t := range refresh {
		see(t.ClientID, t.Scopes, t.CreatedAt)
	}
	for _, t := range access {
		see(t.ClientID, t.Scopes, t.CreatedAt)
	}

	// The first refresh token of a family (its id is the family's) records
	// when the grant began; rotation marks it used but keeps it until it
	// expires and is purged.
	families := db.Model(&models.RefreshToken{}).Select("family_id").
		Where("user_id = ?", userID).Where("revoked = ?", false).Where("expires_at > ?", now)
	var roots []models.RefreshToken
	err := db.Model(&models.RefreshToken{}).Select("client_id", "created_at").
		Where("id IN (?)", families).Where("user_id = ?", userID).Where("revoked = ?", false).Find(&roots).Error
	if err != nil {
		return nil, Translate(op, err)
	}
	for _, r := range roots {
		if gr := byClient[r.ClientID]; gr != nil && r.CreatedAt.Before(gr.FirstGrantedAt) {
			gr.FirstGrantedAt = r.CreatedAt
		}
	}

	ids := make([]models.UUID, 0, len(byClient))
	for id := range byClient {
		ids = append(ids, id)
	}
	var clients []models.Client
	if err := db.Select("id", "name", "revoked").Where("id IN ?", ids).Find(&clients).Error; err != nil {
		return nil, Translate(op, err)
	}
	out := make([]Grant, 0, len(clients))
	for _, c := range clients {
		if c.Revoked {
			continue // its tokens no longer work (Clients.Revoke revokes them too)
		}
		gr := byClient[c.ID]
		gr.ClientName = c.Name
		slices.Sort(gr.Scopes)
		if gr.Scopes == nil {
			gr.Scopes = models.Strings{}
		}
		out = append(out, *gr)
	}
	slices.SortFunc(out, func(a, b Grant) int {
		if c := a.FirstGrantedAt.Compare(b.FirstGrantedAt); c != 0 {
			return c
		}
		return strings.Compare(string(a.ClientID), string(b.ClientID))
	})
	return out, nil
}

// Revoke withdraws what a user granted a client: in one transaction it
// revokes the user's authorization codes, refresh tokens and access tokens
// for that client, repeating until a pass changes nothing (as every
// revocation does; see revokeGrants), and records it (event grant.revoked)
// when it revoked any. It returns how many rows it revoked; a user who had
// granted the client nothing gets 0 and no error. The client itself and the
// user's grants to other clients are left alone.
//
// It returns ErrInvalidInput for a malformed id and ErrNotFound if the user
// or the client does not exist (the message names which).
func (g *Grants) Revoke(ctx context.Context, userID, clientID models.UUID) (int64, error) {
	const op = "revoke grant"
	if err := firstErr(validID("user id", userID), validID("client id", clientID)); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	n, err := inTx(ctx, g.base, func(tx *gorm.DB, now time.Time) (int64, error) {
		// The account's lock first, as every write of one user's rows in
		// several tables takes it (lock order, doc.go): on MySQL the
		// activity row's foreign key check waits for a lock on the user's
		// row, which a password change holding the user and waiting for
		// these tokens would otherwise close into a cycle.
		if _, err := lockUser(tx, "id = ?", userID); err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return 0, fmt.Errorf("user %s: %w", userID, ErrNotFound)
			}
			return 0, err
		}
		if err := mustExist(tx, &models.Client{}, "client", clientID); err != nil {
			return 0, err
		}
		// revokeGrants matches one column; a session carrying the user
		// condition narrows each of its updates to this user (every
		// statement built from it starts with that condition).
		ofUser := tx.Where("user_id = ?", userID).Session(&gorm.Session{})
		n, err := revokeGrants(ofUser, "client_id", clientID, now)
		if err != nil || n == 0 {
			return n, err
		}
		return n, record(tx, now, &userID, models.EventGrantRevoked, map[string]any{"client_id": clientID, "revoked_rows": n})
	})
	if err != nil {
		return 0, Translate(op, err)
	}
	return n, nil
}

// mustExist returns ErrNotFound, naming what and id, unless a row of model
// has the id.
func mustExist(tx *gorm.DB, model any, what string, id models.UUID) error {
	var n int64
	if err := tx.Model(model).Where("id = ?", id).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return nil
}
