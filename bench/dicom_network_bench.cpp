// bench_dicom_network: a DICOM client that times the work of issue 5's benchmark against any
// SCP (Tessera or the reference Orthanc), so both are measured by the same code in one run.
//
//   store  --dir DIR [--associations K] [--limit N]        C-STORE every file, K associations
//   find   [--warmup W] [--requests R] NAME=Key=Value[;Key=Value...] ...
//                                                         study-level C-FINDs in ONE association
//   move   --dest AE UID [UID...]                          one study-level C-MOVE per UID
// Common: --host H --port P --called AE [--calling AE]. Output is one TSV line per figure so the
// driving script can parse it:  store <instances> <bytes> <seconds> <failures>
//                               find <name> <matches> <p50 ms> <p95 ms>
//                               move <studies> <completed> <failed> <seconds>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Peer {
    std::string host = "127.0.0.1";
    Uint16 port = 0;
    std::string called;
    std::string calling = "TESSERA-BENCH";
};

double milliseconds(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

void configure(DcmSCU& scu, const Peer& peer) {
    scu.setAETitle(peer.calling.c_str());
    scu.setPeerHostName(peer.host.c_str());
    scu.setPeerPort(peer.port);
    scu.setPeerAETitle(peer.called.c_str());
    scu.setMaxReceivePDULength(65536);
    scu.setACSETimeout(30);
    scu.setDIMSETimeout(600);
}

void connect(DcmSCU& scu) {
    if (scu.initNetwork().bad()) throw std::runtime_error("initNetwork failed");
    const OFCondition status = scu.negotiateAssociation();
    if (status.bad()) throw std::runtime_error(std::string("association refused: ") + status.text());
}

// --- store ----------------------------------------------------------------------------------

struct StoredFile {
    std::string path;
    std::string sopClass;
    std::string transferSyntax;
    std::uintmax_t bytes = 0;
};

std::vector<StoredFile> listFiles(const std::string& dir, std::size_t limit) {
    std::vector<std::string> paths;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".dcm") paths.push_back(entry.path().string());
    }
    std::sort(paths.begin(), paths.end());
    if (limit != 0 && paths.size() > limit) paths.resize(limit);
    std::vector<StoredFile> files;
    files.reserve(paths.size());
    for (const auto& path : paths) {
        DcmFileFormat file;
        if (file.loadFileUntilTag(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect,
                                  DCM_PatientName)
                .bad())
            continue;
        OFString sopClass, syntax;
        file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sopClass);
        file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, syntax);
        files.push_back({path, sopClass.c_str(), syntax.c_str(), std::filesystem::file_size(path)});
    }
    return files;
}

int runStore(const Peer& peer, const std::string& dir, std::size_t associations, std::size_t limit) {
    const auto files = listFiles(dir, limit);
    std::set<std::pair<std::string, std::string>> contexts;
    for (const auto& file : files) contexts.insert({file.sopClass, file.transferSyntax});

    std::atomic<std::size_t> failures{0};
    std::atomic<std::uintmax_t> bytes{0};
    std::vector<std::thread> workers;
    const auto started = Clock::now();
    for (std::size_t worker = 0; worker < associations; ++worker) {
        workers.emplace_back([&, worker] {
            DcmSCU scu;
            configure(scu, peer);
            for (const auto& [sopClass, syntax] : contexts) {
                OFList<OFString> syntaxes;
                syntaxes.push_back(syntax.c_str());
                scu.addPresentationContext(sopClass.c_str(), syntaxes);
            }
            try {
                connect(scu);
            } catch (const std::exception& e) {
                std::cerr << "store: " << e.what() << "\n";
                failures += files.size() / associations;
                return;
            }
            for (std::size_t i = worker; i < files.size(); i += associations) {
                const auto& file = files[i];
                const T_ASC_PresentationContextID id =
                    scu.findPresentationContextID(file.sopClass.c_str(), file.transferSyntax.c_str());
                Uint16 status = 0xFFFF;
                if (id == 0 || scu.sendSTORERequest(id, file.path.c_str(), nullptr, status).bad() || status != 0) {
                    ++failures;
                } else {
                    bytes += file.bytes;
                }
            }
            scu.releaseAssociation();
        });
    }
    for (auto& worker : workers) worker.join();
    const double seconds = milliseconds(Clock::now() - started) / 1000.0;
    std::printf("store\t%zu\t%ju\t%.3f\t%zu\n", files.size() - failures.load(), bytes.load(), seconds,
                failures.load());
    return failures.load() == 0 ? 0 : 1;
}

// --- find -----------------------------------------------------------------------------------

struct FindKind {
    std::string name;
    std::vector<std::pair<DcmTagKey, std::string>> keys;
};

DcmTagKey tagFor(const std::string& keyword) {
    const DcmDataDictionary& dictionary = dcmDataDict.rdlock();
    const DcmDictEntry* entry = dictionary.findEntry(keyword.c_str());
    const DcmTagKey key = entry != nullptr ? entry->getKey() : DcmTagKey();
    dcmDataDict.rdunlock();
    if (entry == nullptr) throw std::runtime_error("unknown keyword " + keyword);
    return key;
}

FindKind parseKind(const std::string& spec) {
    const auto equals = spec.find('=');
    if (equals == std::string::npos) throw std::runtime_error("bad find kind " + spec);
    FindKind kind{spec.substr(0, equals), {}};
    std::string rest = spec.substr(equals + 1);
    while (!rest.empty()) {
        const auto end = rest.find(';');
        const std::string pair = rest.substr(0, end);
        const auto sep = pair.find('=');
        if (sep == std::string::npos) throw std::runtime_error("bad key " + pair);
        kind.keys.emplace_back(tagFor(pair.substr(0, sep)), pair.substr(sep + 1));
        rest = end == std::string::npos ? std::string() : rest.substr(end + 1);
    }
    return kind;
}

int runFind(const Peer& peer, const std::vector<FindKind>& kinds, int warmup, int requests) {
    DcmSCU scu;
    configure(scu, peer);
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu.addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, syntaxes);
    connect(scu);
    const T_ASC_PresentationContextID id = scu.findAnyPresentationContextID(
        UID_FINDStudyRootQueryRetrieveInformationModel, UID_LittleEndianExplicitTransferSyntax);
    int failures = 0;
    for (const auto& kind : kinds) {
        std::vector<double> times;
        std::size_t matches = 0;
        for (int i = 0; i < warmup + requests; ++i) {
            DcmDataset query;
            query.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
            // Return keys a viewer's study list asks for.
            for (const DcmTagKey& key : {DCM_StudyInstanceUID, DCM_PatientName, DCM_PatientID, DCM_StudyDate,
                                         DCM_StudyDescription, DCM_ModalitiesInStudy,
                                         DCM_NumberOfStudyRelatedInstances}) {
                query.insertEmptyElement(key);
            }
            for (const auto& [key, value] : kind.keys) query.putAndInsertString(key, value.c_str());
            OFList<QRResponse*> responses;
            const auto started = Clock::now();
            const OFCondition status = scu.sendFINDRequest(id, &query, &responses);
            const auto elapsed = Clock::now() - started;
            std::size_t pending = 0;
            for (QRResponse* response : responses) {
                if (response->m_dataset != nullptr) ++pending;
                delete response;
            }
            if (status.bad()) {
                ++failures;
                std::cerr << "find " << kind.name << ": " << status.text() << "\n";
                break;
            }
            if (i >= warmup) times.push_back(milliseconds(elapsed));
            matches = pending;
        }
        std::printf("find\t%s\t%zu\t%.3f\t%.3f\n", kind.name.c_str(), matches, percentile(times, 0.5),
                    percentile(times, 0.95));
    }
    scu.releaseAssociation();
    return failures == 0 ? 0 : 1;
}

// --- move -----------------------------------------------------------------------------------

int runMove(const Peer& peer, const std::string& destination, const std::vector<std::string>& studies) {
    DcmSCU scu;
    configure(scu, peer);
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu.addPresentationContext(UID_MOVEStudyRootQueryRetrieveInformationModel, syntaxes);
    connect(scu);
    const T_ASC_PresentationContextID id = scu.findAnyPresentationContextID(
        UID_MOVEStudyRootQueryRetrieveInformationModel, UID_LittleEndianExplicitTransferSyntax);
    std::size_t completed = 0, failed = 0;
    const auto started = Clock::now();
    for (const auto& study : studies) {
        DcmDataset query;
        query.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
        query.putAndInsertString(DCM_StudyInstanceUID, study.c_str());
        OFList<RetrieveResponse*> responses;
        const OFCondition status = scu.sendMOVERequest(id, destination.c_str(), &query, &responses);
        if (status.bad()) {
            std::cerr << "move " << study << ": " << status.text() << "\n";
            ++failed;
        } else if (!responses.empty()) {
            const RetrieveResponse* last = responses.back();
            completed += last->m_numberOfCompletedSubops;
            failed += last->m_numberOfFailedSubops;
        }
        for (RetrieveResponse* response : responses) delete response;
    }
    const double seconds = milliseconds(Clock::now() - started) / 1000.0;
    scu.releaseAssociation();
    std::printf("move\t%zu\t%zu\t%zu\t%.3f\n", studies.size(), completed, failed, seconds);
    return failed == 0 ? 0 : 1;
}

int usage() {
    std::cerr << "usage: bench_dicom_network store|find|move --port P --called AE [--host H] [--calling AE]\n"
                 "  store --dir DIR [--associations K] [--limit N]\n"
                 "  find [--warmup W] [--requests R] NAME=Key=Value[;Key=Value] ...\n"
                 "  move --dest AE STUDY_UID ...\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
    if (argc < 2) return usage();
    const std::string mode = argv[1];
    Peer peer;
    std::string dir, destination;
    std::size_t associations = 1, limit = 0;
    int warmup = 20, requests = 200;
    std::vector<std::string> positional;
    try {
        for (int i = 2; i < argc; ++i) {
            const std::string arg = argv[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
                return argv[++i];
            };
            if (arg == "--host") peer.host = value();
            else if (arg == "--port") peer.port = static_cast<Uint16>(std::stoi(value()));
            else if (arg == "--called") peer.called = value();
            else if (arg == "--calling") peer.calling = value();
            else if (arg == "--dir") dir = value();
            else if (arg == "--associations") associations = std::stoul(value());
            else if (arg == "--limit") limit = std::stoul(value());
            else if (arg == "--warmup") warmup = std::stoi(value());
            else if (arg == "--requests") requests = std::stoi(value());
            else if (arg == "--dest") destination = value();
            else positional.push_back(arg);
        }
        if (peer.port == 0 || peer.called.empty()) return usage();
        if (mode == "store" && !dir.empty() && associations > 0) return runStore(peer, dir, associations, limit);
        if (mode == "find") {
            std::vector<FindKind> kinds;
            for (const auto& spec : positional) kinds.push_back(parseKind(spec));
            return runFind(peer, kinds, warmup, requests);
        }
        if (mode == "move" && !destination.empty()) return runMove(peer, destination, positional);
    } catch (const std::exception& e) {
        std::cerr << "bench_dicom_network: " << e.what() << "\n";
        return 1;
    }
    return usage();
}
