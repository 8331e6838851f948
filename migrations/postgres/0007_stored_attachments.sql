-- A suggestion's attachments may be files kept in the database (kind 'stored', uploaded with a
-- 代为提交 in the console; file_unique_id is the SHA-256 of stored_files, file_id is empty).
ALTER TABLE attachments DROP CONSTRAINT IF EXISTS attachments_kind_check;
ALTER TABLE attachments ADD CONSTRAINT attachments_kind_check CHECK (kind IN ('photo', 'document', 'stored'));
