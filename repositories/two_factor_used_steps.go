package repositories

import (
	"errors"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// Used TOTP steps (table two_factor_used_steps): a step a user's code was
// accepted for is recorded, and the unique index on the user and the step
// refuses it a second time (RFC 6238 5.2: a verifier must not accept the
// second attempt of the same OTP).

// totpPeriod is the TOTP time step (RFC 6238's X), 30 seconds.
const totpPeriod = 30

// totpSkew is how many steps before and after the current one a code is
// accepted for: one, for a clock a little off and a code typed as it
// changes.
const totpSkew = 1

// spentStepLifetime is how long after its use a step's record is needed:
// a step is accepted until totpSkew steps after it began, and it is used
// no earlier than totpSkew steps before it began.
const spentStepLifetime = (2*totpSkew + 1) * totpPeriod * time.Second

// errNotSpent marks a second factor that was refused inside the
// transaction (a step used already, an unknown or used recovery code): a
// failure that counts toward the lockout.
var errNotSpent = errors.New("second factor not accepted")

// spendStep records that userID's step was used. Of concurrent uses of
// one step exactly one inserts its row; the others get errNotSpent (and
// ErrUsed) once the winner commits.
func spendStep(tx *gorm.DB, now time.Time, userID models.UUID, step int64) error {
	err := tx.Create(&models.TwoFactorUsedStep{ID: models.NewUUID(), UserID: userID, Step: step, UsedAt: now}).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("totp code: its time step was used already: %w: %w", ErrUsed, errNotSpent)
	}
	return err
}

// spentStepsTarget selects the used steps no verification window holds any
// more, for Cleanup.Purge.
func spentStepsTarget(now time.Time) purgeTarget {
	return purgeTarget{model: &models.TwoFactorUsedStep{}, where: "used_at < ?", args: []any{now.Add(-spentStepLifetime)}, age: "used_at"}
}
