#include "tessera/plugins/xapian/xapian_index.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <xapian.h>

#include "tessera/plugins/xapian/document_codec.hpp"
#include "tessera/plugins/xapian/document_summary.hpp"
#include "tessera/plugins/xapian/field_catalogue.hpp"
#include "tessera/plugins/xapian/terms.hpp"
#include "tessera/plugins/xapian/value_range_source.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::plugins::xapian {

namespace {

using sdk::Error;
using sdk::ErrorCode;

/// Positions skipped between two values, so a phrase never spans two values or attributes.
constexpr Xapian::termpos kValueGap = 8;

struct BuiltDocument {
    std::string idTerm;
    Xapian::Document document;
};

}  // namespace

struct XapianIndex::Impl {
    std::filesystem::path path;
    XapianIndexOptions options;
    XapianLogger logger;

    FieldCatalogue catalogue;
    std::mutex pendingMutex;  // guards pendingMetadata
    std::vector<std::pair<std::string, std::string>> pendingMetadata;

    mutable std::mutex writerMutex;  // guards db and sinceCommit
    Xapian::WritableDatabase db;
    std::size_t sinceCommit = 0;

    void log(sdk::LogLevel level, std::string_view message) const {
        if (logger) logger(level, message);
    }

    BuiltDocument build(const sdk::IndexItem& item);
    void flushMetadataLocked();
    void commitLocked();
};

BuiltDocument XapianIndex::Impl::build(const sdk::IndexItem& item) {
    if (item.object == nullptr) throw Error(ErrorCode::InvalidArgument, "Index item without an object");
    const std::string& uri = item.uri.str();
    if (uri.empty()) throw Error(ErrorCode::InvalidArgument, "Index item without a URI");

    BuiltDocument built;
    built.idTerm = idTerm(uri);
    Xapian::Document& doc = built.document;
    doc.add_boolean_term(built.idTerm);
    DocumentEncoder encoder(uri);
    SummaryBuilder summary(uri);
    // Catalogue entries made for this document are published whatever happens next: the
    // catalogue already holds them, so they must reach the database.
    struct Publisher {
        Impl& impl;
        std::vector<std::pair<std::string, std::string>> entries;
        ~Publisher() {
            if (entries.empty()) return;
            try {
                std::lock_guard lock(impl.pendingMutex);
                for (auto& entry : entries) impl.pendingMetadata.push_back(std::move(entry));
            } catch (...) {
                // Out of memory: nothing better to do than to go on.
            }
        }
    } publisher{*this, {}};
    auto& newEntries = publisher.entries;
    // Range keys by field id, counted after the walk (a field with several keys in one document is
    // multi-valued). Ranges are answered from the whole-value terms (layout 5), so only the keys of
    // values whose term is hashed (too long to give its text back) and all keys of the fields that
    // keep range slots (continuous VRs: too many distinct values to list) go into single or packed
    // slots; the flag says which.
    struct RangeKey {
        std::uint32_t id;
        bool inSlot;
        std::string key;
    };
    std::vector<RangeKey> keys;
    keys.reserve(64);
    Xapian::termpos position = 1;
    // The ids of the fields present, for the document's one field-set term.
    std::vector<std::uint32_t> fieldIds;
    fieldIds.reserve(256);

    // One pass over the view, terms built straight from its values (no copy of the object).
    // Every term goes through the same few reused buffers: the document copies each term into
    // its own map anyway, and a fresh string per term was most of this loop's allocations.
    std::string lowered, normalisedScratch, term, exactPrefixText, wordPrefixText;
    lowered.reserve(256);
    term.reserve(kMaxTermBytes + 1);
    std::vector<std::string_view> valueWords;
    valueWords.reserve(32);
    item.object->forEachAttribute([&](const sdk::DicomAttribute& a) {
        const auto info = catalogue.findOrAdd(a.keyword, a.vr, newEntries);
        if (!info) return;  // keyword too long to catalogue
        encoder.add(info->id, a.value);
        summary.add(a.keyword, info->id, a.value);
        char codeBuffer[16];
        const auto codeEnd = std::to_chars(codeBuffer, codeBuffer + sizeof codeBuffer, info->id).ptr;
        const std::string_view code(codeBuffer, static_cast<std::size_t>(codeEnd - codeBuffer));
        // (Built by push_back/append: g++ 12 warns falsely on assign("X").append(code).)
        auto setPrefix = [&](std::string& prefix, char family, bool separator) {
            prefix.clear();
            prefix.push_back(family);
            prefix.append(code);
            if (separator) prefix.push_back('#');
        };
        setPrefix(exactPrefixText, 'X', true);
        setPrefix(wordPrefixText, 'W', true);
        fieldIds.push_back(info->id);
        // Free text is answered from the word and whole-value terms of the fields flagged here.
        const bool freeText = isFreeTextVr(a.vr);
        if (freeText && !info->freeText) catalogue.markFreeText(info->id, newEntries);
        const bool slotted = hasSlot(info->kind);
        // Only dates and times are rewritten for their terms; other values are their own term text.
        const bool normalises = info->kind == FieldKind::Date || info->kind == FieldKind::Time;
        lowerCaseInto(a.value, lowered);
        forEachValue(lowered, [&](std::string_view component) {
            std::string_view normalised = component;
            if (normalises) {
                normalisedScratch = normaliseForTerm(info->kind, component);
                normalised = normalisedScratch;
            }
            doc.add_boolean_term(makeTerm(exactPrefixText, normalised, term));
            if (slotted) {
                // Keys that stay out of the slots are only counted: no key string is built.
                const bool inSlot = info->rangeSlots || exactPrefixText.size() + normalised.size() > kMaxTermBytes;
                if (!inSlot) {
                    if (hasSortableKey(info->kind, component)) keys.push_back({info->id, false, {}});
                } else if (auto key = sortableKey(info->kind, component)) {
                    keys.push_back({info->id, true, std::move(*key)});
                }
            }
            wordsInto(component, valueWords);
            if (valueWords.size() > 1) {
                // Positional, so that phrases can require adjacency and order.
                for (std::size_t w = 0; w < valueWords.size(); ++w)
                    doc.add_posting(makeTerm(wordPrefixText, valueWords[w], term), position + static_cast<Xapian::termpos>(w), 0);
                position += static_cast<Xapian::termpos>(valueWords.size()) + kValueGap;
            } else if (valueWords.size() == 1) {
                // A single word equal to the whole value is already the exact term, except in a
                // date or time field: its exact terms are normalised ("2016.01.05" and "20160105"
                // share one), so free text asks only its word terms, and each word needs one.
                if (valueWords.front() != normalised || (freeText && normalises))
                    doc.add_boolean_term(makeTerm(wordPrefixText, valueWords.front(), term));
            }
        });
    });

    std::sort(fieldIds.begin(), fieldIds.end());
    fieldIds.erase(std::unique(fieldIds.begin(), fieldIds.end()), fieldIds.end());
    doc.add_boolean_term(catalogue.fieldSetTerm(fieldIds, newEntries));

    // Several keys of one field: the catalogue learns (before this document is written) that the
    // field's terms may overlap in a document, and that queries must look in its multi slot too.
    // Slot keys (see RangeKey): one alone in the field's single slot, several packed in its multi slot.
    // In field order, a field's keys in document order: (id, position) packed in one integer
    // and sorted (a stable sort of the keys themselves allocated a buffer per document).
    std::vector<std::uint64_t> order(keys.size());
    for (std::size_t k = 0; k < keys.size(); ++k) order[k] = (std::uint64_t{keys[k].id} << 32) | k;
    std::sort(order.begin(), order.end());
    auto keyAt = [&](std::size_t i) -> const RangeKey& { return keys[static_cast<std::uint32_t>(order[i])]; };
    for (std::size_t i = 0; i < order.size();) {
        const std::uint32_t id = keyAt(i).id;
        std::size_t j = i + 1;
        bool anyInSlot = keyAt(i).inSlot;
        for (; j < order.size() && keyAt(j).id == id; ++j)
            if (keyAt(j).inSlot) anyInSlot = true;
        if (j - i > 1) catalogue.markMultiValued(id, newEntries);
        if (anyInSlot) {
            if (j - i == 1) {
                doc.add_value(singleSlot(id), std::string(slotKey(keyAt(i).key)));
            } else {
                std::string packed;
                for (std::size_t k = i; k < j; ++k)
                    if (keyAt(k).inSlot) appendSlotKey(packed, keyAt(k).key);
                doc.add_value(multiSlot(id), packed);
            }
        }
        i = j;
    }
    doc.add_value(kDocumentSlot, encoder.data());
    summary.addTo(doc);
    return built;
}

void XapianIndex::Impl::flushMetadataLocked() {
    std::vector<std::pair<std::string, std::string>> entries;
    {
        std::lock_guard lock(pendingMutex);
        entries.swap(pendingMetadata);
    }
    for (const auto& [key, value] : entries) db.set_metadata(key, value);
}

void XapianIndex::Impl::commitLocked() {
    flushMetadataLocked();
    db.commit();
    sinceCommit = 0;
}

XapianIndex::XapianIndex(const std::filesystem::path& path, XapianIndexOptions options, XapianLogger logger)
    : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    impl_->options = options;
    impl_->logger = std::move(logger);
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) throw Error(ErrorCode::Unavailable, "Cannot create the index directory: " + ec.message());
    try {
        impl_->db = Xapian::WritableDatabase(path.string(), Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
        const std::string format = impl_->db.get_metadata(std::string(kFormatMetadataKey));
        if (format != kFormatVersion) {
            const bool empty = impl_->db.get_doccount() == 0 &&
                               impl_->db.metadata_keys_begin() == impl_->db.metadata_keys_end();
            if (!empty) {
                impl_->db.close();
                throw Error(ErrorCode::Unavailable,
                            "The xapian index was written in " +
                                (format.empty() ? std::string("an older layout") : "layout " + format) +
                                ", this plugin reads layout " + std::string(kFormatVersion) +
                                ": delete the index directory (setting 'path') and re-index");
            }
            impl_->db.set_metadata(std::string(kFormatMetadataKey), std::string(kFormatVersion));
        }
        impl_->catalogue.load(impl_->db);
        // A fresh database gets a first commit so that readers can open it straight away.
        if (impl_->db.get_revision() == 0 || format != kFormatVersion) impl_->db.commit();
    } catch (const Xapian::DatabaseLockError&) {
        throw Error(ErrorCode::Unavailable, "The xapian index is in use by another writer");
    } catch (const Xapian::DatabaseCorruptError& e) {
        throw Error(ErrorCode::Corrupted, "The xapian index is damaged: " + e.get_msg());
    } catch (const Xapian::Error& e) {
        throw Error(ErrorCode::Unavailable, "Cannot open the xapian index: " + e.get_description());
    }
}

XapianIndex::~XapianIndex() {
    try {
        std::lock_guard lock(impl_->writerMutex);
        impl_->commitLocked();
        impl_->db.close();
    } catch (const Xapian::Error& e) {
        impl_->log(sdk::LogLevel::Error, "Closing the xapian index failed: " + e.get_msg());
    } catch (...) {
        impl_->log(sdk::LogLevel::Error, "Closing the xapian index failed");
    }
}

sdk::IndexReport XapianIndex::index(std::span<const sdk::IndexItem> batch) {
    sdk::IndexReport report;
    // Term generation is the expensive part and needs no lock: build first, then write.
    std::vector<BuiltDocument> built;
    built.reserve(batch.size());
    for (const auto& item : batch) {
        try {
            built.push_back(impl_->build(item));
        } catch (const std::exception& e) {
            ++report.errors;
            impl_->log(sdk::LogLevel::Warning, "Not indexed: " + item.uri.str() + ": " + e.what());
        }
    }
    std::lock_guard lock(impl_->writerMutex);
    try {
        impl_->flushMetadataLocked();
    } catch (const Xapian::Error& e) {
        throw Error(ErrorCode::Unavailable, "Writing the xapian index failed: " + e.get_msg());
    }
    for (auto& doc : built) {
        try {
            impl_->db.replace_document(doc.idTerm, doc.document);
            ++report.indexed;
            if (impl_->options.commitEvery != 0 && ++impl_->sinceCommit >= impl_->options.commitEvery) impl_->commitLocked();
        } catch (const Xapian::Error& e) {
            ++report.errors;
            impl_->log(sdk::LogLevel::Error, "Writing to the xapian index failed: " + e.get_description());
        }
    }
    return report;
}

sdk::UnindexReport XapianIndex::unindex(std::span<const sdk::Uri> uris) {
    sdk::UnindexReport report;
    std::lock_guard lock(impl_->writerMutex);
    for (const auto& uri : uris) {
        try {
            const std::string term = idTerm(uri.str());
            if (!impl_->db.term_exists(term)) {
                ++report.notFound;
                continue;
            }
            impl_->db.delete_document(term);
            ++report.removed;
            if (impl_->options.commitEvery != 0 && ++impl_->sinceCommit >= impl_->options.commitEvery) impl_->commitLocked();
        } catch (const Xapian::Error& e) {
            ++report.failed;
            impl_->log(sdk::LogLevel::Error, "Removing from the xapian index failed: " + e.get_msg());
        }
    }
    return report;
}

void XapianIndex::commit() {
    std::lock_guard lock(impl_->writerMutex);
    try {
        impl_->commitLocked();
    } catch (const Xapian::Error& e) {
        throw Error(ErrorCode::Unavailable, "Committing the xapian index failed: " + e.get_description());
    }
}

std::size_t XapianIndex::documentCount() const {
    std::lock_guard lock(impl_->writerMutex);
    return impl_->db.get_doccount();
}

const std::filesystem::path& XapianIndex::path() const noexcept { return impl_->path; }

}  // namespace tessera::plugins::xapian
