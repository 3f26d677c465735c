package repositories

import (
	"context"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// Revocation, shared by every grant: a family (reuse, replay, RFC 7009), a
// client, a user.

// revokeThenFail is the second transaction of a redemption whose token was
// presented again (a reused refresh token, a replayed code): the first
// transaction has ended, changing nothing and releasing its locks; revoke
// runs in a transaction of its own, taking its locks in revokeGrants'
// order, and commits; then the call fails with sentinel.
func (b base) revokeThenFail(ctx context.Context, op string, revoke func(tx *gorm.DB, now time.Time) error, sentinel error) error {
	if err := b.transaction(ctx, revoke); err != nil {
		return Translate(op, err)
	}
	return fmt.Errorf("%s: %w", op, sentinel)
}

// maxRevokePasses bounds revokeGrants' passes.
const maxRevokePasses = 5

// revokeFamily revokes every refresh and access token of a grant and
// returns how many rows it changed. Revoked rows are left alone, so it is
// idempotent.
func revokeFamily(tx *gorm.DB, familyID models.UUID, now time.Time) (int64, error) {
	return revokeGrants(tx, "family_id", familyID, now)
}

// revokeGrants revokes every authorization code (unless column is
// family_id, which codes lack), refresh token and access token whose column
// equals value, and returns how many rows it changed.
//
// Lock order: every OAuth revocation locks authorization codes, then
// refresh tokens, then access tokens, so two revocations never wait on each
// other in a cycle on PostgreSQL. A pass repeats until it changes nothing:
// under PostgreSQL's READ COMMITTED an UPDATE that waited for a concurrent
// rotation or exchange does not see the rows that rotation inserted, but
// the next statement does, so one pass could leave a freshly issued token
// alive.
func revokeGrants(tx *gorm.DB, column string, value any, now time.Time) (int64, error) {
	tables := []any{&models.RefreshToken{}, &models.AccessToken{}}
	if column != "family_id" {
		tables = append([]any{&models.AuthorizationCode{}}, tables...)
	}
	var total int64
	for range maxRevokePasses {
		var pass int64
		for _, m := range tables {
			set := map[string]any{"revoked": true}
			if _, ok := m.(*models.AccessToken); ok {
				set["updated_at"] = now
			}
			res := tx.Model(m).Where(column+" = ?", value).Where("revoked = ?", false).Updates(set)
			if res.Error != nil {
				return 0, res.Error
			}
			pass += res.RowsAffected
		}
		if pass == 0 {
			break
		}
		total += pass
	}
	return total, nil
}
