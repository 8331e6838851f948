-- The audit page is paged newest first and filtered by action or account.
CREATE INDEX audit_log_action ON audit_log(action, id);
CREATE INDEX audit_log_user ON audit_log(user_id, id);
CREATE INDEX audit_log_token ON audit_log(token_id, id);
