-- revision 0010
-- The schema the migrations leave on SQLite (see ledger.db.SQLITE_SCHEMA). Generated:
-- pytest tests/test_fast_init.py --update-golden

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE event (
	seq INTEGER NOT NULL, 
	at VARCHAR NOT NULL, 
	actor VARCHAR NOT NULL, 
	action VARCHAR NOT NULL, 
	entity VARCHAR NOT NULL, 
	uid VARCHAR(32) NOT NULL, 
	state TEXT NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, on_behalf VARCHAR, 
	CONSTRAINT pk_event PRIMARY KEY (seq)
);

CREATE INDEX ix_event_entity_uid ON event (entity, uid);

CREATE TABLE person (
	id INTEGER NOT NULL, 
	uid VARCHAR(32) NOT NULL, 
	name VARCHAR NOT NULL, 
	name_key VARCHAR NOT NULL, 
	kind VARCHAR NOT NULL, 
	description TEXT, 
	slug VARCHAR NOT NULL, 
	merged_into_id INTEGER, wikidata VARCHAR, 
	CONSTRAINT pk_person PRIMARY KEY (id), 
	CONSTRAINT ck_person_kind CHECK (kind IN ('person', 'organization')), 
	CONSTRAINT fk_person_merged_into_id_person FOREIGN KEY(merged_into_id) REFERENCES person (id), 
	CONSTRAINT uq_person_slug UNIQUE (slug), 
	CONSTRAINT uq_person_uid UNIQUE (uid)
);

CREATE INDEX ix_person_name_key ON person (name_key);

CREATE TABLE source (
	id INTEGER NOT NULL, 
	uid VARCHAR(32) NOT NULL, 
	"key" VARCHAR NOT NULL, 
	title VARCHAR NOT NULL, 
	publisher VARCHAR, 
	author VARCHAR, 
	url TEXT, 
	url_normalized TEXT, 
	published VARCHAR, 
	kind VARCHAR NOT NULL, 
	language VARCHAR, 
	text TEXT, 
	text_sha256 VARCHAR(64), 
	retrieved VARCHAR, file_sha256 VARCHAR(64), media_type VARCHAR, 
	CONSTRAINT pk_source PRIMARY KEY (id), 
	CONSTRAINT uq_source_key UNIQUE ("key"), 
	CONSTRAINT uq_source_uid UNIQUE (uid), 
	CONSTRAINT uq_source_url_normalized UNIQUE (url_normalized)
);

CREATE INDEX ix_source_published ON source (published);

CREATE TABLE claim (
	id INTEGER NOT NULL, 
	uid VARCHAR(32) NOT NULL, 
	statement TEXT NOT NULL, 
	claimant_id INTEGER, 
	occurred VARCHAR, 
	status VARCHAR NOT NULL, 
	retraction_reason TEXT, 
	CONSTRAINT pk_claim PRIMARY KEY (id), 
	CONSTRAINT fk_claim_claimant_id_person FOREIGN KEY(claimant_id) REFERENCES person (id), 
	CONSTRAINT uq_claim_uid UNIQUE (uid)
);

CREATE INDEX ix_claim_claimant_id ON claim (claimant_id);

CREATE INDEX ix_claim_status ON claim (status);

CREATE TABLE person_alias (
	id INTEGER NOT NULL, 
	person_id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	name_key VARCHAR NOT NULL, 
	CONSTRAINT pk_person_alias PRIMARY KEY (id), 
	CONSTRAINT fk_person_alias_person_id_person FOREIGN KEY(person_id) REFERENCES person (id), 
	CONSTRAINT uq_person_alias_person_id UNIQUE (person_id, name)
);

CREATE INDEX ix_person_alias_name_key ON person_alias (name_key);

CREATE INDEX ix_person_alias_person_id ON person_alias (person_id);

CREATE TABLE source_link (
	id INTEGER NOT NULL, 
	uid VARCHAR(32) NOT NULL, 
	source_id INTEGER NOT NULL, 
	target_id INTEGER NOT NULL, 
	relation VARCHAR NOT NULL, 
	CONSTRAINT pk_source_link PRIMARY KEY (id), 
	CONSTRAINT ck_source_link_not_self CHECK (source_id <> target_id), 
	CONSTRAINT fk_source_link_source_id_source FOREIGN KEY(source_id) REFERENCES source (id), 
	CONSTRAINT fk_source_link_target_id_source FOREIGN KEY(target_id) REFERENCES source (id), 
	CONSTRAINT uq_source_link_source_id UNIQUE (source_id, target_id), 
	CONSTRAINT uq_source_link_uid UNIQUE (uid)
);

CREATE INDEX ix_source_link_source_id ON source_link (source_id);

CREATE INDEX ix_source_link_target_id ON source_link (target_id);

CREATE TABLE attribution (
	id INTEGER NOT NULL, 
	uid VARCHAR(32) NOT NULL, 
	claim_id INTEGER NOT NULL, 
	source_id INTEGER NOT NULL, 
	quote TEXT, 
	voice VARCHAR, 
	sourcing VARCHAR NOT NULL, 
	quote_status VARCHAR NOT NULL, 
	anchor_start INTEGER, 
	anchor_end INTEGER, 
	anchor_prefix VARCHAR, 
	anchor_suffix VARCHAR, anchor_sha256 VARCHAR(64), 
	CONSTRAINT pk_attribution PRIMARY KEY (id), 
	CONSTRAINT fk_attribution_claim_id_claim FOREIGN KEY(claim_id) REFERENCES claim (id), 
	CONSTRAINT fk_attribution_source_id_source FOREIGN KEY(source_id) REFERENCES source (id), 
	CONSTRAINT uq_attribution_uid UNIQUE (uid)
);

CREATE INDEX ix_attribution_claim_id ON attribution (claim_id);

CREATE INDEX ix_attribution_source_id ON attribution (source_id);

CREATE TABLE claim_person (
	id INTEGER NOT NULL, 
	claim_id INTEGER NOT NULL, 
	person_id INTEGER NOT NULL, 
	role VARCHAR NOT NULL, 
	CONSTRAINT pk_claim_person PRIMARY KEY (id), 
	CONSTRAINT fk_claim_person_claim_id_claim FOREIGN KEY(claim_id) REFERENCES claim (id), 
	CONSTRAINT fk_claim_person_person_id_person FOREIGN KEY(person_id) REFERENCES person (id), 
	CONSTRAINT uq_claim_person_claim_id UNIQUE (claim_id, person_id, role)
);

CREATE INDEX ix_claim_person_claim_id ON claim_person (claim_id);

CREATE INDEX ix_claim_person_person_id ON claim_person (person_id);

CREATE TABLE reply_request (
	id INTEGER NOT NULL, 
	uid VARCHAR(32) NOT NULL, 
	claim_id INTEGER NOT NULL, 
	addressee_id INTEGER NOT NULL, 
	sent VARCHAR NOT NULL, 
	deadline VARCHAR, 
	channel VARCHAR, 
	CONSTRAINT pk_reply_request PRIMARY KEY (id), 
	CONSTRAINT fk_reply_request_addressee_id_person FOREIGN KEY(addressee_id) REFERENCES person (id), 
	CONSTRAINT fk_reply_request_claim_id_claim FOREIGN KEY(claim_id) REFERENCES claim (id), 
	CONSTRAINT uq_reply_request_uid UNIQUE (uid)
);

CREATE INDEX ix_reply_request_addressee_id ON reply_request (addressee_id);

CREATE INDEX ix_reply_request_claim_id ON reply_request (claim_id);

CREATE TABLE response (
	id INTEGER NOT NULL, 
	uid VARCHAR(32) NOT NULL, 
	claim_id INTEGER NOT NULL, 
	respondent_id INTEGER NOT NULL, 
	kind VARCHAR NOT NULL, 
	date VARCHAR, 
	source_id INTEGER, 
	quote TEXT, 
	summary TEXT, voice VARCHAR, quote_status VARCHAR DEFAULT 'no-quote' NOT NULL, anchor_start INTEGER, anchor_end INTEGER, anchor_prefix VARCHAR, anchor_suffix VARCHAR, anchor_sha256 VARCHAR(64), 
	CONSTRAINT pk_response PRIMARY KEY (id), 
	CONSTRAINT fk_response_claim_id_claim FOREIGN KEY(claim_id) REFERENCES claim (id), 
	CONSTRAINT fk_response_respondent_id_person FOREIGN KEY(respondent_id) REFERENCES person (id), 
	CONSTRAINT fk_response_source_id_source FOREIGN KEY(source_id) REFERENCES source (id), 
	CONSTRAINT uq_response_uid UNIQUE (uid)
);

CREATE INDEX ix_response_claim_id ON response (claim_id);

CREATE INDEX ix_response_respondent_id ON response (respondent_id);

CREATE INDEX ix_response_source_id ON response (source_id);

CREATE TRIGGER event_no_update BEFORE UPDATE ON event BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

CREATE TRIGGER event_no_delete BEFORE DELETE ON event BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

CREATE VIRTUAL TABLE search_claim USING fts5(statement, content="claim", content_rowid="id", tokenize='porter unicode61 remove_diacritics 2');

CREATE TRIGGER search_claim_insert AFTER INSERT ON claim BEGIN INSERT INTO search_claim(rowid, statement) VALUES (new.id, new.statement); END;

CREATE TRIGGER search_claim_delete AFTER DELETE ON claim BEGIN INSERT INTO search_claim(search_claim, rowid, statement) VALUES ('delete', old.id, old.statement); END;

CREATE TRIGGER search_claim_update AFTER UPDATE OF statement ON claim BEGIN INSERT INTO search_claim(search_claim, rowid, statement) VALUES ('delete', old.id, old.statement); INSERT INTO search_claim(rowid, statement) VALUES (new.id, new.statement); END;

CREATE VIRTUAL TABLE search_attribution USING fts5(quote, voice, content="attribution", content_rowid="id", tokenize='porter unicode61 remove_diacritics 2');

CREATE TRIGGER search_attribution_insert AFTER INSERT ON attribution BEGIN INSERT INTO search_attribution(rowid, quote, voice) VALUES (new.id, new.quote, new.voice); END;

CREATE TRIGGER search_attribution_delete AFTER DELETE ON attribution BEGIN INSERT INTO search_attribution(search_attribution, rowid, quote, voice) VALUES ('delete', old.id, old.quote, old.voice); END;

CREATE TRIGGER search_attribution_update AFTER UPDATE OF quote, voice ON attribution BEGIN INSERT INTO search_attribution(search_attribution, rowid, quote, voice) VALUES ('delete', old.id, old.quote, old.voice); INSERT INTO search_attribution(rowid, quote, voice) VALUES (new.id, new.quote, new.voice); END;

CREATE VIRTUAL TABLE search_response USING fts5(quote, summary, content="response", content_rowid="id", tokenize='porter unicode61 remove_diacritics 2');

CREATE TRIGGER search_response_insert AFTER INSERT ON response BEGIN INSERT INTO search_response(rowid, quote, summary) VALUES (new.id, new.quote, new.summary); END;

CREATE TRIGGER search_response_delete AFTER DELETE ON response BEGIN INSERT INTO search_response(search_response, rowid, quote, summary) VALUES ('delete', old.id, old.quote, old.summary); END;

CREATE TRIGGER search_response_update AFTER UPDATE OF quote, summary ON response BEGIN INSERT INTO search_response(search_response, rowid, quote, summary) VALUES ('delete', old.id, old.quote, old.summary); INSERT INTO search_response(rowid, quote, summary) VALUES (new.id, new.quote, new.summary); END;

CREATE VIRTUAL TABLE search_source USING fts5(title, text, content="source", content_rowid="id", tokenize='porter unicode61 remove_diacritics 2');

CREATE TRIGGER search_source_insert AFTER INSERT ON source BEGIN INSERT INTO search_source(rowid, title, text) VALUES (new.id, new.title, new.text); END;

CREATE TRIGGER search_source_delete AFTER DELETE ON source BEGIN INSERT INTO search_source(search_source, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END;

CREATE TRIGGER search_source_update AFTER UPDATE OF title, text ON source BEGIN INSERT INTO search_source(search_source, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); INSERT INTO search_source(rowid, title, text) VALUES (new.id, new.title, new.text); END;

CREATE INDEX ix_claim_statement ON claim (statement);

CREATE TABLE checkpoint (
	id INTEGER NOT NULL, 
	seq INTEGER NOT NULL, 
	head_hash VARCHAR(64) NOT NULL, 
	ledger VARCHAR NOT NULL, 
	signed_at VARCHAR NOT NULL, 
	public_key TEXT NOT NULL, 
	text TEXT NOT NULL, 
	signature TEXT NOT NULL, 
	CONSTRAINT pk_checkpoint PRIMARY KEY (id)
);

CREATE INDEX ix_checkpoint_seq ON checkpoint (seq);

CREATE TRIGGER event_no_replace BEFORE INSERT ON event WHEN EXISTS (SELECT 1 FROM event WHERE seq = new.seq) BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

CREATE TABLE review (
	id INTEGER NOT NULL, 
	uid VARCHAR(32) NOT NULL, 
	claim_id INTEGER NOT NULL, 
	decision VARCHAR, 
	approved_seq INTEGER, 
	approved_hash VARCHAR(64), 
	note TEXT, 
	reason TEXT, 
	override TEXT, 
	held BOOLEAN NOT NULL, 
	hold_reason TEXT, 
	CONSTRAINT pk_review PRIMARY KEY (id), 
	CONSTRAINT ck_review_decision CHECK (decision IN ('approved', 'rejected')), 
	CONSTRAINT fk_review_claim_id_claim FOREIGN KEY(claim_id) REFERENCES claim (id), 
	CONSTRAINT uq_review_claim_id UNIQUE (claim_id), 
	CONSTRAINT uq_review_uid UNIQUE (uid)
);

