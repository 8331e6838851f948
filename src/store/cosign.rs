//! 联名 in the store: who was invited to co-sign a suggestion and how they answered, the
//! co-signers' own ratings, and the roster lookup the lead member invites from.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Member, Rating, Recipient, Result, SuggestionSummary};

/// Where an invitation to co-sign stands, as stored (`cosigners.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CosignStatus {
    /// Sent, not answered yet (counted as `Expired` once past its `expires_at`: see
    /// [`Cosigner::status_at`]).
    Invited,
    /// 同意联名: the member co-signs.
    Accepted,
    /// 不同意.
    Declined,
    /// Closed unanswered: staff accepted the suggestion first.
    Expired,
}

impl CosignStatus {
    pub const ALL: [CosignStatus; 4] = [Self::Invited, Self::Accepted, Self::Declined, Self::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A member invited to co-sign a suggestion.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Cosigner {
    pub member_id: i64,
    pub name: String,
    pub status: CosignStatus,
    pub invited_at: DateTime<Utc>,
    /// When an unanswered invitation closes (`workflow.cosign_days` after `invited_at`).
    pub expires_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    /// The member's chat, `None` without one or when they blocked the bot.
    pub chat_id: Option<i64>,
    pub language: Option<String>,
}

impl Cosigner {
    /// The status as of `now`: an invitation still unanswered at its `expires_at` is expired.
    pub fn status_at(&self, now: DateTime<Utc>) -> CosignStatus {
        match self.status {
            CosignStatus::Invited if now >= self.expires_at => CosignStatus::Expired,
            status => status,
        }
    }

    /// Where pushes to this member go, if they can be written to.
    pub fn recipient(&self) -> Option<Recipient> {
        self.chat_id.map(|chat_id| Recipient { chat_id, language: self.language.clone() })
    }
}

/// A co-signer's rating of one reply (the lead member's is in `ratings`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CosignerRating {
    pub member_id: i64,
    pub name: String,
    /// Which reply was rated: 1 for the suggestion's first.
    pub reply_no: i64,
    pub rating: Rating,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// 联名's reads. Its writes go with the submission (`Effect::InviteCosigners`) and with workflow
/// changes (`ChangeOp::AnswerInvitation`, `CloseInvitations`, `CosignerRate`).
#[async_trait]
pub trait CosignStore: Send + Sync {
    /// Active members (not the preview's test members) a lead may invite, matching `typed`: its
    /// member number (`fold_typed`: any width, any case) or its name with spaces left out. At most
    /// `limit`, by member number.
    async fn cosign_candidates(&self, typed: &str, limit: usize) -> Result<Vec<Member>>;
    /// Where pushes to the member go: their chat, unless they have none or blocked the bot.
    async fn member_recipient(&self, member_id: i64) -> Result<Option<Recipient>>;
    /// Everyone invited to co-sign the suggestion, in the order they were invited.
    async fn cosigners(&self, suggestion_id: i64) -> Result<Vec<Cosigner>>;
    /// The co-signers (accepted) of each of the suggestions `suggestion_ids`, as (suggestion id,
    /// name) pairs in the order they were invited: for lists and exports.
    async fn cosigner_names(&self, suggestion_ids: &[i64]) -> Result<Vec<(i64, String)>>;
    /// Suggestions the member co-signs (invitation accepted), newest first.
    async fn cosigned_suggestions(&self, member_id: i64, limit: usize) -> Result<Vec<SuggestionSummary>>;
    /// The co-signers' ratings of the suggestion's replies, oldest first.
    async fn cosigner_ratings(&self, suggestion_id: i64) -> Result<Vec<CosignerRating>>;
}

/// What `typed` is looked up as: the member number form and the name form (spaces left out).
pub fn lookup_keys(typed: &str) -> (String, String) {
    let folded = crate::domain::fold_width(typed);
    let name: String = folded.chars().filter(|c| !c.is_whitespace()).collect();
    (name.to_ascii_uppercase(), name)
}
