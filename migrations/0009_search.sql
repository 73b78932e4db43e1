-- Message search: a full-text index over what each message says now, and
-- the order search results are listed in.

-- The words of a message's present text, kept by PostgreSQL itself (an
-- edit rewrites them, a deletion empties them). The `simple` configuration
-- lowercases but neither stems nor drops stop words, so names, code and
-- words of any language match as typed.
ALTER TABLE messages ADD COLUMN tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(content, ''))) STORED;

-- Which messages hold a word (rare words, phrases, one conversation).
CREATE INDEX messages_tsv_idx ON messages USING gin (tsv);

-- Results newest first across conversations: a backwards range scan of
-- this key, from a cursor, over messages still there (deleted ones never
-- match). It also lets a search for a common word walk the newest
-- messages and stop once a page is full, instead of reading every match.
CREATE INDEX messages_search_order_idx ON messages (created_at, conversation_id, seq)
    WHERE deleted_at IS NULL;

-- What a person typed, as a text search: `websearch_to_tsquery` (so
-- "quoted phrases", `or` and `-word` work, and no input is a syntax
-- error), with the last word matched as a prefix when `prefix` (natter
-- sets it for a bare word still being typed). That word is the query's
-- last lexeme, which PostgreSQL prints last, quoted: `:*` after it makes
-- it a prefix.
CREATE FUNCTION search_query(words text, prefix boolean) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN prefix AND right(websearch_to_tsquery('simple', words)::text, 1) = ''''
                THEN (websearch_to_tsquery('simple', words)::text || ':*')::tsquery
                ELSE websearch_to_tsquery('simple', words) END
$$;

-- A message's text cut down around what matched, the matched words
-- between U+E000 and U+E001 (natter turns these into pieces of plain
-- text). Private-use and control characters are taken out of the text
-- first, so a message cannot forge a mark. `<` and `&` go in as U+0001
-- and U+0002 (natter puts them back): ts_headline drops what looks like an
-- HTML tag, and a snippet shows the text as written, tags and all.
-- A message of up to 200 characters is shown whole; a longer one as up to
-- two passages around the matches.
CREATE FUNCTION search_snippet(content text, q tsquery) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ts_headline('simple',
        translate(
            regexp_replace(content, '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f\ue000-\uf8ff]',
                           '', 'g'),
            '<&', chr(1) || chr(2)),
        q,
        'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || ', '
        || CASE WHEN char_length(content) <= 200 THEN 'HighlightAll=true'
                ELSE 'MaxWords=30, MinWords=12, ShortWord=0, MaxFragments=2, '
                     || 'FragmentDelimiter=" … "' END)
$$;
