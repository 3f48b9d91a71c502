#include "dicom/find_identifier.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>

#include "tessera/core/dicom/character_set.hpp"
#include "tessera/core/dicom/dicom_dictionary.hpp"

namespace tessera::server {
namespace {

std::uint32_t tagOf(const DcmTagKey& key) {
    return (static_cast<std::uint32_t>(key.getGroup()) << 16) | key.getElement();
}

std::string rawValue(DcmElement& element) {
    OFString value;
    if (element.getLength() == 0) return {};
    if (element.getOFStringArray(value, OFFalse).bad()) return {};
    return std::string(value.c_str(), value.length());
}

}  // namespace

ParsedIdentifier readIdentifier(DcmDataset& identifier) {
    ParsedIdentifier parsed;
    OFString charset;
    identifier.findAndGetOFStringArray(DCM_SpecificCharacterSet, charset);
    for (unsigned long i = 0; i < identifier.card(); ++i) {
        DcmElement* element = identifier.getElement(i);
        if (!element) continue;
        const DcmTag& tag = element->getTag();
        if (tag.getElement() == 0 || tag.isPrivate()) continue;
        const auto keyword = core::keywordForTag(tagOf(tag));
        if (!keyword) continue;
        const std::string vr = DcmVR(element->ident()).getValidVRName();
        core::FindKey key{*keyword, vr, {}};
        if (element->ident() == EVR_SQ) {
            auto* sequence = static_cast<DcmSequenceOfItems*>(element);
            if (sequence->card() > 0 && sequence->getItem(0)->card() > 0) parsed.hasSequenceKeys = true;
            key.vr = "SQ";
        } else {
            key.value = core::decodeToUtf8(rawValue(*element), charset.c_str(), vr == "PN");
        }
        if (tag == DCM_QueryRetrieveLevel) {
            parsed.levelText = key.value;
            parsed.level = core::parseQueryLevel(key.value);
        }
        parsed.keys.push_back(std::move(key));
    }
    return parsed;
}

std::unique_ptr<DcmDataset> responseIdentifier(DcmDataset& identifier, const core::FindResponse& response,
                                               const std::string& retrieveAeTitle) {
    auto out = std::make_unique<DcmDataset>();
    const auto valueOf = [&](const std::string& keyword) {
        const auto it = response.find(keyword);
        return it == response.end() ? std::string() : it->second;
    };
    const std::string charset = valueOf("SpecificCharacterSet");
    if (!charset.empty()) out->putAndInsertString(DCM_SpecificCharacterSet, charset.c_str());
    for (unsigned long i = 0; i < identifier.card(); ++i) {
        DcmElement* element = identifier.getElement(i);
        if (!element) continue;
        const DcmTag& tag = element->getTag();
        if (tag.getElement() == 0 || tag.isPrivate()) continue;
        if (tag == DCM_SpecificCharacterSet) {
            if (charset.empty()) out->putAndInsertString(DCM_SpecificCharacterSet, "");
            continue;
        }
        if (element->ident() == EVR_SQ) {
            out->insert(new DcmSequenceOfItems(tag), OFTrue);
            continue;
        }
        const auto keyword = core::keywordForTag(tagOf(tag));
        std::string value = keyword ? valueOf(*keyword) : std::string();
        if (tag == DCM_RetrieveAETitle) value = retrieveAeTitle;
        if (tag == DCM_InstanceAvailability) value = "ONLINE";
        DcmElement* copy = nullptr;
        if (DcmItem::newDicomElementWithVR(copy, tag).bad() || !copy) continue;
        if (!value.empty() && copy->putString(value.c_str(), static_cast<Uint32>(value.size())).bad()) {
            // A value the VR cannot hold (a non-number in a binary numeric VR) goes back empty.
            delete copy;
            if (DcmItem::newDicomElementWithVR(copy, tag).bad() || !copy) continue;
        }
        out->insert(copy, OFTrue);
    }
    out->putAndInsertString(DCM_QueryRetrieveLevel, valueOf("QueryRetrieveLevel").c_str());
    return out;
}

}  // namespace tessera::server
