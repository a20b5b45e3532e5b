-- Blind indexes stay text on PostgreSQL; on SQLite this migration stores them as 32 bytes.
SELECT 1;
