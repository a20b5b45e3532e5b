//! Status transition rules of the consent state machine (section 5, R57); the per-channel
//! verification rules (R4, R11, R13–R18, R25) live in the `verification` submodule.

mod verification;

pub(crate) use verification::verifies_phone;
pub use verification::{VerificationGap, VerificationOutcome, VerificationPolicy, verification_status};

use super::ConsentStatus;

/// Why a status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// `ConsentInvalidated` is terminal for its record.
    #[error("status {0} is terminal")]
    Terminal(ConsentStatus),
    /// Moving to a status valid for processing needs new verification evidence.
    #[error("{from} -> {to} needs new verification evidence")]
    NeedsEvidence {
        /// Current status.
        from: ConsentStatus,
        /// Requested status.
        to: ConsentStatus,
    },
    /// The state machine has no such edge.
    #[error("{from} -> {to} is not a permitted transition")]
    NotAllowed {
        /// Current status.
        from: ConsentStatus,
        /// Requested status.
        to: ConsentStatus,
    },
    /// A manual override may only move a record to `ConsentRevoked` or `ConsentInvalidated` (R57).
    #[error("a manual override may only set ConsentRevoked or ConsentInvalidated, not {0}")]
    ManualOverride(ConsentStatus),
}

impl TransitionError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Terminal(_) => "terminal_status",
            Self::NeedsEvidence { .. } => "needs_new_evidence",
            Self::NotAllowed { .. } => "transition_not_allowed",
            Self::ManualOverride(_) => "manual_override_not_allowed",
        }
    }
}

/// Checks one status change of a record (section 5).
///
/// * `ConsentInvalidated` is terminal.
/// * `ConsentGiven` is reached only from a not-yet-valid capture state (`Requested`, `RequestDeferred`,
///   `Refused`, `Unknown`) and only with verification evidence (`has_new_evidence`).
/// * `RenewedConsentGiven` is reached from `Given`/`RenewedGiven` (re-permission), `Expired`,
///   `Withdrawn`, `Revoked` or `Unknown`, always with new evidence, and from `Requested` by a
///   renewal recorded as a record of its own (Konsent's way, R43). An ended consent never goes
///   back to plain `Given`.
/// * Ending states: withdrawal from any live or pending state; expiry and loss of evidence
///   (`Unknown`) from pending or valid states; `Revoked` and `Invalidated` from any non-terminal state.
pub fn check_transition(from: ConsentStatus, to: ConsentStatus, has_new_evidence: bool) -> Result<(), TransitionError> {
    use ConsentStatus::*;
    if from == Invalidated {
        return Err(TransitionError::Terminal(from));
    }
    let edge = match to {
        Given => matches!(from, Requested | RequestDeferred | Refused | Unknown),
        RenewedGiven => matches!(from, Requested | Given | RenewedGiven | Expired | Withdrawn | Revoked | Unknown),
        Requested => matches!(from, RequestDeferred | Refused | Unknown),
        RequestDeferred => from == Requested,
        Refused => matches!(from, Requested | RequestDeferred),
        Withdrawn => matches!(from, Requested | RequestDeferred | Given | RenewedGiven | Expired | Unknown),
        Expired => matches!(from, Requested | Given | RenewedGiven),
        Unknown => matches!(from, Requested | Given | RenewedGiven | Expired),
        Revoked => from != Revoked,
        Invalidated => true,
    };
    if !edge {
        return Err(TransitionError::NotAllowed { from, to });
    }
    if to.is_valid_for_processing() && !has_new_evidence {
        return Err(TransitionError::NeedsEvidence { from, to });
    }
    Ok(())
}

/// Checks the target of a manual (administrative) status override: only `ConsentRevoked` and
/// `ConsentInvalidated` are possible; an override can never make a consent valid (R57).
pub fn check_manual_override(to: ConsentStatus) -> Result<(), TransitionError> {
    match to {
        ConsentStatus::Revoked | ConsentStatus::Invalidated => Ok(()),
        other => Err(TransitionError::ManualOverride(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsentStatus::*;

    #[test]
    fn requested_to_given_needs_verification_evidence() {
        assert_eq!(
            check_transition(Requested, Given, false),
            Err(TransitionError::NeedsEvidence { from: Requested, to: Given })
        );
        assert_eq!(check_transition(Requested, Given, true), Ok(()));
    }

    #[test]
    fn invalidated_is_terminal_even_with_new_evidence() {
        for to in ConsentStatus::ALL {
            assert_eq!(check_transition(Invalidated, to, true), Err(TransitionError::Terminal(Invalidated)), "{to}");
        }
    }

    #[test]
    fn r43_expired_or_withdrawn_only_renewed_with_new_evidence() {
        for from in [Expired, Withdrawn] {
            assert_eq!(
                check_transition(from, RenewedGiven, false),
                Err(TransitionError::NeedsEvidence { from, to: RenewedGiven })
            );
            assert_eq!(check_transition(from, RenewedGiven, true), Ok(()));
            assert_eq!(check_transition(from, Given, true), Err(TransitionError::NotAllowed { from, to: Given }));
        }
    }

    #[test]
    fn r26_unknown_legacy_consent_needs_evidence_to_become_valid() {
        assert!(check_transition(Unknown, Given, false).is_err());
        assert!(check_transition(Unknown, RenewedGiven, false).is_err());
        assert_eq!(check_transition(Unknown, RenewedGiven, true), Ok(()));
    }

    #[test]
    fn r70_no_path_into_a_valid_status_without_evidence() {
        for from in ConsentStatus::ALL {
            for to in [Given, RenewedGiven] {
                assert!(check_transition(from, to, false).is_err(), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn valid_consent_can_end_in_every_way() {
        for to in [Withdrawn, Expired, Revoked, Invalidated, Unknown] {
            assert_eq!(check_transition(Given, to, false), Ok(()), "{to}");
            assert_eq!(check_transition(RenewedGiven, to, false), Ok(()), "{to}");
        }
    }

    #[test]
    fn given_cannot_fall_back_to_pending_states() {
        for to in [Requested, RequestDeferred, Refused, Given] {
            assert_eq!(check_transition(Given, to, true), Err(TransitionError::NotAllowed { from: Given, to }));
        }
    }

    #[test]
    fn pending_capture_edges() {
        assert_eq!(check_transition(Requested, Refused, false), Ok(()));
        assert_eq!(check_transition(Requested, RequestDeferred, false), Ok(()));
        assert_eq!(check_transition(RequestDeferred, Requested, false), Ok(()));
        assert_eq!(check_transition(Requested, Expired, false), Ok(()));
        assert!(check_transition(Refused, Withdrawn, false).is_err());
        assert!(check_transition(Withdrawn, Expired, false).is_err());
    }

    #[test]
    fn r57_manual_override_only_to_revoked_or_invalidated() {
        assert_eq!(check_manual_override(Revoked), Ok(()));
        assert_eq!(check_manual_override(Invalidated), Ok(()));
        for to in [Given, RenewedGiven, Requested, Unknown, Withdrawn, Expired, Refused, RequestDeferred] {
            let err = check_manual_override(to).unwrap_err();
            assert_eq!(err, TransitionError::ManualOverride(to));
            assert_eq!(err.code(), "manual_override_not_allowed");
        }
    }
}
