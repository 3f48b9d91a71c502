#include "tessera/plugins/xapian/xapian_searcher.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <xapian.h>

#include "tessera/plugins/xapian/document_codec.hpp"
#include "tessera/plugins/xapian/document_summary.hpp"
#include "tessera/plugins/xapian/field_catalogue.hpp"
#include "tessera/plugins/xapian/query_compiler.hpp"
#include "tessera/plugins/xapian/value_range_source.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::plugins::xapian {

namespace {

using sdk::Error;
using sdk::ErrorCode;

/// Dicoogle's default DIM field list (behaviour reference §9).
constexpr std::array<std::string_view, 29> kDimFields = {
    "PatientID",        "PatientName",       "PatientSex",           "PatientBirthDate",
    "PatientAge",       "PatientTelephoneNumbers", "PregnancyStatus", "StudyInstanceUID",
    "StudyID",          "StudyDate",         "StudyTime",            "StudyDescription",
    "AccessionNumber",  "ModalitiesInStudy", "NumberOfStudyRelatedInstances", "InstitutionName",
    "InstitutionDepartmentName", "ReferringPhysicianName", "PerformingPhysicianName", "OperatorName",
    "PerformedLocation", "Manufacturer",     "ManufacturerModelName", "Priority",
    "Modality",         "SeriesInstanceUID", "SeriesNumber",         "SeriesDescription",
    "SOPInstanceUID"};

/// How often a query is retried after the writer overtook its read handle (a handle survives
/// one commit; two commits during one query invalidate it). Backs off 1, 2, 3... ms.
constexpr int kMaxAttempts = 12;

/// How far ahead (in docids) the summary cursor steps value by value instead of seeking.
constexpr Xapian::docid kStepLimit = 32;

}  // namespace

bool isDimField(std::string_view keyword) noexcept {
    return std::find(kDimFields.begin(), kDimFields.end(), keyword) != kDimFields.end();
}

struct XapianSearcher::Impl {
    std::filesystem::path path;
    std::size_t maxPooled = 8;

    std::mutex poolMutex;
    std::vector<std::unique_ptr<Xapian::Database>> pool;

    // The catalogue is append-only, so the newest one loaded serves every handle's revision.
    std::mutex catalogueLoadMutex;
    FieldCatalogue catalogue;
    std::atomic<Xapian::rev> catalogueRevision{0};
    std::atomic<bool> catalogueLoaded{false};

    std::unique_ptr<Xapian::Database> acquire() {
        {
            std::lock_guard lock(poolMutex);
            if (!pool.empty()) {
                auto db = std::move(pool.back());
                pool.pop_back();
                return db;
            }
        }
        return std::make_unique<Xapian::Database>(path.string(), Xapian::DB_BACKEND_GLASS);
    }

    void release(std::unique_ptr<Xapian::Database> db) {
        std::lock_guard lock(poolMutex);
        if (pool.size() < maxPooled) pool.push_back(std::move(db));
    }

    void refreshCatalogue(const Xapian::Database& db) {
        const Xapian::rev revision = db.get_revision();
        if (catalogueLoaded.load() && revision <= catalogueRevision.load()) return;
        std::lock_guard lock(catalogueLoadMutex);
        if (catalogueLoaded.load() && revision <= catalogueRevision.load()) return;
        // An index of another layout would be misread: refuse it (the writer refuses it too).
        if (db.get_metadata(std::string(kFormatMetadataKey)) != kFormatVersion && db.get_doccount() != 0)
            throw Error(ErrorCode::Unavailable, "The xapian index has another layout than this plugin reads; re-index");
        catalogue.load(db);
        catalogueRevision.store(revision);
        catalogueLoaded.store(true);
    }

    sdk::QueryResponse run(Xapian::Database& db, const sdk::QueryRequest& request);
};

sdk::QueryResponse XapianSearcher::Impl::run(Xapian::Database& db, const sdk::QueryRequest& request) {
    refreshCatalogue(db);

    const Xapian::doccount docCount = db.get_doccount();
    const auto offset = static_cast<Xapian::doccount>(std::min<std::size_t>(request.offset, docCount));
    const auto limit = static_cast<Xapian::doccount>(std::min<std::size_t>(request.limit.value_or(docCount), docCount));
    const bool matchAll = std::holds_alternative<sdk::MatchAllQuery>(request.query);

    sdk::QueryResponse response;
    // The hits of the page, by document id.
    std::vector<Xapian::docid> page;
    if (matchAll && db.get_lastdocid() == docCount) {
        // `*:*` over ids without gaps (nothing deleted): the page is ids offset+1.., no matcher
        // stepping over `offset` documents to reach it. Its total is the document count.
        response.total = docCount;
        const Xapian::doccount end = std::min<Xapian::doccount>(docCount, offset + std::min(limit, docCount - offset));
        for (Xapian::docid did = offset + 1; did <= end; ++did) page.push_back(did);
    } else {
        const QueryCompiler compiler(db, catalogue);
        const CompiledQuery compiled = compiler.compileCounted(request.query);
        Xapian::Enquire enquire(db);
        enquire.set_query(compiled.query);
        enquire.set_weighting_scheme(Xapian::BoolWeight());
        enquire.set_docid_order(Xapian::Enquire::ASCENDING);
        // Counting every match is the expensive part of most queries, so it is done only when
        // the total is not known otherwise: the compiler knows some totals from term
        // statistics, `*:*` matches every document, and Xapian's bounds, read without running
        // the match (no page, nothing checked), are exact for one term or a value range over a
        // whole slot. Then only the page is fetched and Xapian stops as soon as it has it.
        // Otherwise one pass checks at least every document, which makes its count exact.
        Xapian::MSet mset;
        std::optional<Xapian::doccount> total = compiled.total;
        if (matchAll) total = docCount;
        // A page that reaches past the last document takes every match: the counting pass
        // below costs nothing more than the page, so the bounds (a second match set up over
        // every term's postlist) would be wasted (forEach's chunks, a C-FIND's passes).
        const bool pageTakesAll = static_cast<std::size_t>(offset) + limit >= docCount;
        if (!total && !pageTakesAll) {
            const Xapian::MSet bounds = enquire.get_mset(0, 0);
            if (bounds.get_matches_lower_bound() == bounds.get_matches_upper_bound()) total = bounds.get_matches_lower_bound();
        }
        if (total) {
            mset = enquire.get_mset(offset, limit);
            response.total = *total;
        } else {
            mset = enquire.get_mset(offset, limit, docCount);
            response.total = mset.get_matches_estimated();
        }
        page.reserve(mset.size());
        for (auto it = mset.begin(); it != mset.end(); ++it) page.push_back(*it);
    }

    // Requested keywords by field id, resolved once per query; `*` alone asks for every stored
    // attribute, named through the catalogue (each id looked up once).
    const bool everything = request.fields.size() == 1 && request.fields.front() == "*";
    std::vector<std::optional<std::string>> everyName;
    auto nameOf = [&](std::uint32_t id) -> const std::string* {
        if (everyName.size() <= id) everyName.resize(id + 1);
        if (!everyName[id]) everyName[id] = catalogue.keywordOf(id).value_or(std::string());
        return everyName[id]->empty() ? nullptr : &*everyName[id];
    };

    // Otherwise: the keys a result can have, sorted by name, so that each result's map is built
    // in order (an end hint per key instead of a search). A key takes its stored value (the
    // first occurrence, found by slot), else an empty one for a DIM field, else the URI for
    // `uri`. A field id answers to the first requested name that resolves to it.
    struct OutputKey {
        const std::string* name = nullptr;
        int slot = -1;  // index into a record's found values; -1 when not read from the blob
        bool dimDefault = false;
        bool uri = false;
    };
    std::vector<OutputKey> outputKeys;
    std::vector<int> slotById;  // field id -> slot, -1 when not asked for
    if (!everything) {
        std::vector<const std::string*> firstById;
        for (const auto& field : request.fields) {
            if (auto info = catalogue.find(field)) {
                if (firstById.size() <= info->id) firstById.resize(info->id + 1, nullptr);
                if (firstById[info->id] == nullptr) firstById[info->id] = &field;
            }
        }
        std::vector<const std::string*> names;
        names.reserve(request.fields.size());
        for (const auto& field : request.fields) names.push_back(&field);
        std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
        names.erase(std::unique(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a == *b; }),
                    names.end());
        int slots = 0;
        for (const std::string* name : names) {
            OutputKey key{name, -1, isDimField(*name), *name == "uri"};
            if (auto info = catalogue.find(*name); info && *firstById[info->id] == *name) {
                if (slotById.size() <= info->id) slotById.resize(info->id + 1, -1);
                slotById[info->id] = key.slot = slots++;
            }
            if (key.slot >= 0 || key.dimDefault || key.uri) outputKeys.push_back(key);
        }
    }
    const std::size_t slotCount = static_cast<std::size_t>(std::count_if(
        outputKeys.begin(), outputKeys.end(), [](const OutputKey& key) { return key.slot >= 0; }));
    std::vector<std::string_view> found(slotCount);
    std::vector<char> have(slotCount);

    // When every asked-for stored field is a summary field, the small summaries answer
    // (document_summary.hpp: tens per block where a full record takes a block of its own); a
    // document without a summary of this version is read from its full record.
    const bool summaryOnly =
        !everything && std::all_of(outputKeys.begin(), outputKeys.end(),
                                   [](const OutputKey& key) { return key.slot < 0 || isSummaryField(*key.name); });

    response.results.reserve(page.size());
    // The page is in ascending docid order: one cursor over a slot's value stream reads the
    // values, each skip_to moving forwards from the last (neighbouring hits share the stream's
    // chunks and blocks), where a Document per hit would look each one up from the root. The
    // full records' cursor is opened only when a full record is needed.
    const Xapian::ValueIterator valuesEnd = db.valuestream_end(kDocumentSlot);
    std::optional<Xapian::ValueIterator> values;
    Xapian::ValueIterator summaries = summaryOnly ? db.valuestream_begin(kSummarySlot) : db.valuestream_end(kSummarySlot);
    const Xapian::ValueIterator summariesEnd = db.valuestream_end(kSummarySlot);
    std::string data;
    for (const Xapian::docid did : page) {
        std::string_view record;
        if (summaries != summariesEnd) {
            // Near hits are stepped to: skip_to into another chunk looks the chunk up from the
            // root again, and re-reads the blocks a chunk spans (about every other block read
            // twice when a quarter of the documents are hits); a step goes on from the block
            // the cursor is in. Summaries are a few hundred bytes, so kStepLimit docids are a
            // few blocks at most; far hits are sought.
            if (summaries.get_docid() >= did) {
                // already there (or past: no summary, read below)
            } else if (did - summaries.get_docid() <= kStepLimit) {
                while (summaries != summariesEnd && summaries.get_docid() < did) ++summaries;
            } else {
                summaries.skip_to(did);
            }
            if (summaries != summariesEnd && summaries.get_docid() == did) {
                data = *summaries;
                record = summaryData(data);
            }
        }
        if (record.empty()) {
            if (!values) values = db.valuestream_begin(kDocumentSlot);
            if (*values != valuesEnd && values->get_docid() < did) values->skip_to(did);
            if (*values != valuesEnd && values->get_docid() == did) {
                data = **values;
            } else {
                // Not on the stream's path (out of order, or no blob): the document's own value.
                data = db.get_document(did, Xapian::DOC_ASSUME_VALID).get_value(kDocumentSlot);
            }
            record = data;
        }
        DocumentReader reader(record);
        if (!reader.valid()) throw Error(ErrorCode::Corrupted, "A document in the xapian index is damaged");
        sdk::SearchResult result;
        result.uri = sdk::Uri::parse(reader.uri());
        std::uint32_t id = 0;
        std::string_view value;
        if (everything) {
            while (reader.next(id, value)) {
                // First occurrence wins: the top-level attribute or the first sequence item.
                if (const std::string* name = nameOf(id)) result.fields.try_emplace(*name, value);
            }
            if (!reader.valid()) throw Error(ErrorCode::Corrupted, "A document in the xapian index is damaged");
            response.results.push_back(std::move(result));
            continue;
        }
        std::fill(have.begin(), have.end(), 0);
        std::size_t wantedLeft = slotCount;
        while (reader.next(id, value)) {
            // First occurrence wins, as above. Once every asked-for field has its first
            // occurrence, the rest of the blob cannot add anything: stop reading it (a document
            // has a hundred attributes or more).
            if (id >= slotById.size() || slotById[id] < 0) continue;
            const auto slot = static_cast<std::size_t>(slotById[id]);
            if (have[slot]) continue;
            have[slot] = 1;
            found[slot] = value;
            if (--wantedLeft == 0) break;
        }
        if (!reader.valid()) throw Error(ErrorCode::Corrupted, "A document in the xapian index is damaged");
        for (const OutputKey& key : outputKeys) {
            std::string_view text;
            if (key.slot >= 0 && have[static_cast<std::size_t>(key.slot)]) {
                text = found[static_cast<std::size_t>(key.slot)];
            } else if (key.dimDefault) {
                text = {};
            } else if (key.uri) {
                text = reader.uri();
            } else {
                continue;
            }
            result.fields.emplace_hint(result.fields.end(), std::piecewise_construct, std::forward_as_tuple(*key.name),
                                       std::forward_as_tuple(text));
        }
        response.results.push_back(std::move(result));
    }
    return response;
}

XapianSearcher::XapianSearcher(const std::filesystem::path& path, std::size_t maxPooled) : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    impl_->maxPooled = maxPooled;
}

XapianSearcher::~XapianSearcher() = default;

sdk::QueryResponse XapianSearcher::search(const sdk::QueryRequest& request) {
    std::unique_ptr<Xapian::Database> db;
    try {
        db = impl_->acquire();
    } catch (const Xapian::DatabaseNotFoundError&) {
        throw Error(ErrorCode::Unavailable, "The xapian index does not exist yet");
    } catch (const Xapian::Error& e) {
        throw Error(ErrorCode::Unavailable, "Cannot open the xapian index: " + e.get_description());
    }
    for (int attempt = 1;; ++attempt) {
        try {
            db->reopen();
            auto response = impl_->run(*db, request);
            impl_->release(std::move(db));
            return response;
        } catch (const Xapian::DatabaseModifiedError&) {
            if (attempt >= kMaxAttempts) throw Error(ErrorCode::Unavailable, "The xapian index changed too fast to read; retry");
            std::this_thread::sleep_for(std::chrono::milliseconds(attempt));
        } catch (const Xapian::WildcardError&) {
            impl_->release(std::move(db));
            throw Error(ErrorCode::InvalidArgument,
                        "A wildcard expands to more than " + std::to_string(kMaxExpansion) + " distinct values; narrow it");
        } catch (const sdk::Error&) {
            impl_->release(std::move(db));
            throw;
        } catch (const Xapian::Error& e) {
            throw Error(ErrorCode::Internal, "The xapian index failed: " + e.get_description());
        }
    }
}

}  // namespace tessera::plugins::xapian
