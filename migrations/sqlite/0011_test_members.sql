-- The console's dialog preview plays a test member (one per console account), never a real one.
-- Test members and their suggestions are left out of statistics, exports and the member list.
ALTER TABLE members ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
CREATE INDEX members_test ON members(id) WHERE test = 1;
