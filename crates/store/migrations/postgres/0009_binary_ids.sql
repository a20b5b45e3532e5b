-- Typed ids stay TEXT on PostgreSQL; on SQLite this migration stores them as 16 bytes.
SELECT 1;
