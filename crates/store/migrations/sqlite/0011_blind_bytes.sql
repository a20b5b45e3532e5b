-- A contact point's blind index (HMAC-SHA-256, 64 lower-case hex digits) as its 32 bytes: the
-- only random-keyed index an import writes, half the size, so its pages stay in the cache twice
-- as long (BENCHMARKS.md, "Session 18"). Values of another form stay text; reads turn bytes back
-- into hex, so nothing outside the store changes.
UPDATE contact_points SET blind_index = unhex(blind_index)
    WHERE typeof(blind_index) = 'text' AND length(blind_index) = 64 AND blind_index NOT GLOB '*[^0-9a-f]*';
