//! The store's contract, backend-neutral: every `Store` method's promises (ordering, idempotency,
//! conflicts, what a failed write leaves) checked through `dyn Store` only, run against every backend.
//!
//! Each contract is an `async fn(&Backend)` in `store_contract/<area>.rs`; `contracts!` below makes
//! it a named test per backend (`sqlite::reference_numbers_have_no_gaps_under_concurrency`). Adding a
//! backend is one factory in `store_contract/backends.rs` and one `suite!` line here.

#[path = "store_contract/backends.rs"]
mod backends;
#[path = "store_contract/concurrency.rs"]
mod concurrency;
#[path = "store_contract/console.rs"]
mod console;
#[path = "store_contract/cosign.rs"]
mod cosign;
#[path = "store_contract/fixtures.rs"]
mod fixtures;
#[path = "store_contract/intake.rs"]
mod intake;
#[path = "store_contract/outbox.rs"]
mod outbox;
#[path = "store_contract/outreach.rs"]
mod outreach;
#[path = "store_contract/reads.rs"]
mod reads;
#[path = "store_contract/reports.rs"]
mod reports;
#[path = "store_contract/roster.rs"]
mod roster;
#[path = "support/postgres.rs"]
mod test_database;
#[path = "store_contract/workflow.rs"]
mod workflow;

/// One test per contract for the backend made by `backends::$backend()`.
macro_rules! suite {
    ($backend:ident) => {
        mod $backend {
            contracts! { $backend;
                intake::store_updates_returns_only_new_ids,
                intake::pending_updates_are_the_unprocessed_in_order,
                intake::last_update_id_is_the_highest_stored,
                intake::record_update_failure_counts_attempts,
                intake::abandon_update_gives_up_and_queues_its_messages,
                workflow::commit_twice_for_one_update_is_already_processed,
                workflow::commit_writes_dialog_messages_and_marks_the_update,
                workflow::submission_is_stored_whole_with_its_receipt,
                workflow::change_planned_on_a_stale_state_conflicts_and_writes_nothing,
                workflow::once_only_action_done_twice_conflicts,
                workflow::reply_drafts_and_countersigns_round_trip,
                workflow::failed_commit_leaves_nothing,
                workflow::reference_numbers_are_sequential_per_year,
                workflow::reference_numbers_have_no_gaps_under_concurrency,
                workflow::held_notifications_are_queued_once_the_person_writes,
                workflow::effects_apply_in_order_after_the_submission,
                outbox::due_outbox_orders_replies_notifications_broadcasts_oldest_first,
                outbox::due_outbox_gives_only_each_chats_first_pending_message,
                outbox::due_outbox_respects_next_attempt,
                outbox::outbox_result_records_each_delivery_result,
                outbox::part_sent_is_recorded_only_at_its_part,
                outbox::cancelled_message_stays_cancelled,
                outbox::sent_message_stays_sent,
                outbox::preview_discard_touches_only_preview_chats,
                outbox::subscribe_outbox_hands_over_rows_committed_after_subscribing,
                outbox::pending_outbox_pages_every_pending_message_in_sending_order,
                outbox::outbox_since_reads_only_what_was_written_after_an_id,
                roster::import_members_twice_changes_nothing,
                roster::import_members_updates_by_member_number,
                roster::redeem_invite_answers_every_case,
                roster::invites_bind_staff_and_liaisons,
                roster::set_reachable_marks_and_unmarks,
                roster::open_topics_pinned_first_then_newest,
                outreach::broadcast_queues_one_message_per_reachable_member,
                outreach::cancel_broadcast_stops_only_pending_messages,
                outreach::reminder_is_recorded_once,
                outreach::digest_is_recorded_once,
                outreach::overdue_suggestions_longest_overdue_first,
                outreach::migrate_chat_is_idempotent_and_keeps_order,
                concurrency::store_updates_at_once_are_new_once,
                concurrency::one_update_committed_at_once_is_applied_once,
                concurrency::one_change_applied_at_once_is_applied_once,
                concurrency::one_invite_redeemed_at_once_binds_once,
                concurrency::one_account_redeeming_two_codes_at_once_is_one_person,
                concurrency::topics_pinned_at_once_leave_one_pinned,
                concurrency::one_broadcast_request_at_once_queues_once,
                concurrency::reminder_and_digest_recorded_at_once_are_recorded_once,
                concurrency::named_things_created_at_once_exist_once,
                concurrency::failures_among_commits_at_once_undo_only_their_own,
                concurrency::cut_off_commits_leave_all_or_nothing_and_block_nothing,
                concurrency::a_write_whose_caller_goes_away_blocks_no_later_write,
                reads::inbox_search_finds_words_inside_sentences,
                reads::inbox_search_takes_wildcards_literally,
                reads::inbox_pages_by_keyset_both_ways,
                reads::inbox_deadline_order_puts_no_deadline_last,
                reads::inbox_filters_narrow,
                reads::replies_opinions_and_timeline_read_oldest_first,
                reads::review_queue_pages_oldest_first,
                reads::preview_member_is_a_test_member_left_out,
                reads::members_page_and_counts_follow_the_filter,
                reads::topic_status_and_update_keep_one_pinned,
                reports::dashboard_counts_within_its_scope,
                reports::dashboard_ties_list_no_topic_and_no_workstation_first,
                reports::audience_options_count_whom_they_reach,
                console::users_are_unique_by_username,
                console::sessions_end_on_expiry_logout_and_deactivation,
                console::api_tokens_record_use_and_revocation,
                console::audit_log_is_clipped_and_paged_newest_first,
                cosign::invitations_are_answered_once_and_close_when_accepted,
                cosign::a_submission_without_invitations_invites_nobody,
                cosign::co_signers_rate_each_reply_once,
                cosign::cosign_candidates_match_numbers_and_names_of_active_members,
                console::files_are_kept_once_by_their_hash,
            }
        }
    };
}

/// `#[attr] area::contract, …` → `#[tokio::test] async fn contract()` on a fresh backend.
macro_rules! contracts {
    ($backend:ident; $( $(#[$meta:meta])* $area:ident :: $name:ident ),* $(,)?) => {
        $(
            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let backend = crate::backends::$backend().await;
                crate::$area::$name(&backend).await;
            }
        )*
    };
}

suite!(sqlite);
suite!(postgres);
