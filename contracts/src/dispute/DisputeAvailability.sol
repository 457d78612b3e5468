// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps} from "./StepOps.sol";
import {TrainingMarketTypes} from "../market/TrainingMarketTypes.sol";
import {DisputeGameCore} from "./DisputeGameCore.sol";
import {ValuesRounds} from "./ValuesRounds.sol";

/// @title DisputeAvailability
/// @notice The moves that force data out of a trainer who withholds it
///         (docs/step-program.md, "Data availability"): the values of a range of an op
///         output during a dispute, and transcript records by a query.
abstract contract DisputeAvailability is DisputeGameCore {
    /// @notice Instead of pinpointing, the challenger makes the trainer reveal leaves
    ///         [firstLeaf, firstLeaf + leaves) of an op output of its trace (cut at the
    ///         tensor's end): the values a pinpoint needs, which the trainer might
    ///         otherwise withhold. The range proof's siblings also tell the challenger
    ///         which subtrees differ from its own, so it can walk down to a differing leaf.
    /// @dev Only the challenger, phase AwaitPinpoint, before the deadline, at most
    ///      MAX_REQUESTS times. Emits {ValuesRequested}. Reverts {TooManyRequests},
    ///      {OpMismatch}, {OutputMismatch}, {BadRequest}.
    function requestValues(uint256 id, ValuesRequest calldata r) external nonReentrant {
        Dispute storage d = _move(id, Phase.AwaitPinpoint);
        if (d.requests >= MAX_REQUESTS) revert TooManyRequests(id);
        _proveLeaf(keccak256(abi.encode(r.op)), r.opIndex, d.opsCount, r.opProof, d.opsRoot, false);
        _proveLeaf(r.outputRoot, r.opIndex, d.opsCount, r.outputProof, d.traceRoot, true);
        uint256 length = _outputLength(r.op.dims);
        uint256 count = ValuesRounds.requested(length, r.firstLeaf, r.leaves, MAX_REQUEST_LEAVES);
        // opIndex < opsCount (a uint32), firstLeaf < leaves <= 2^61, count <= 512
        d.opIndex = uint32(r.opIndex);
        d.outputRoot = r.outputRoot;
        d.outputLength = uint64(length);
        d.dtype = r.op.dtype;
        d.element = uint64(r.firstLeaf);
        d.requestedLeaves = uint32(count);
        d.requests += 1;
        uint64 deadline = _next(d, Phase.AwaitValues);
        emit ValuesRequested(id, r.opIndex, r.firstLeaf, count, deadline);
    }

    /// @notice The trainer reveals the requested leaves with a range proof against the
    ///         output root of its trace; the challenger moves next (pinpoint or ask again).
    /// @dev Only the trainer, phase AwaitValues, before the deadline. Emits
    ///      {ValuesProvided}. Reverts {NotRequested}, {OpeningShape}, {OpeningMismatch}.
    function provideValues(uint256 id, StepOps.Opening calldata opening) external nonReentrant {
        Dispute storage d = _move(id, Phase.AwaitValues);
        ValuesRounds.checkProvided(opening, d.element, d.requestedLeaves, d.outputLength, d.dtype, d.outputRoot);
        uint64 deadline = _next(d, Phase.AwaitPinpoint);
        emit ValuesProvided(id, d.opIndex, opening.firstLeaf, opening.words, opening.siblings, deadline);
    }

    /// @notice Asks the trainer of a submitted job for transcript records `indices` (at
    ///         most MAX_QUERY_RECORDS, each <= steps), depositing `queryBond`: the records
    ///         a challenger needs to find the first wrong step and to open a dispute. The
    ///         query holds finalisation like a dispute; a trainer who does not answer
    ///         within `moveTime` is slashed.
    /// @return id The query, a dispute in phase AwaitRecords.
    /// @dev Emits {RecordsQueried}. Reverts {JobNotSubmitted}, {BadQuery}.
    function openQuery(uint256 jobId, uint32[] calldata indices) external nonReentrant returns (uint256 id) {
        TrainingMarketTypes.Job memory job = market.getJob(jobId);
        if (job.status != TrainingMarketTypes.Status.Submitted) revert JobNotSubmitted(jobId, job.status);
        uint256 records = uint256(job.spec.steps) + 1;
        if (indices.length == 0 || indices.length > MAX_QUERY_RECORDS) revert BadQuery(indices.length, records);
        for (uint256 i = 0; i < indices.length; i++) {
            if (indices[i] >= records) revert BadQuery(indices.length, records);
        }
        if (block.timestamp <= job.submittedAt + job.spec.challengeWindow) askedInWindow[jobId][msg.sender] = true;
        id = disputeCount++;
        Dispute storage d = disputes[id];
        d.state = job.transcriptRoot;
        d.outputLength = uint64(records); // steps + 1 <= 2^32
        d.queryHash = keccak256(abi.encode(indices));
        uint64 deadline = _start(d, jobId, 0, job, queryBond);
        d.phase = Phase.AwaitRecords;
        emit RecordsQueried(id, jobId, msg.sender, indices, deadline);
    }

    /// @notice The trainer answers a query with the records and their proofs against
    ///         its transcript root; the query ends and its bond pays the trainer's gas.
    /// @dev Only the trainer, phase AwaitRecords, before the deadline. Emits
    ///      {RecordsPosted} and {DisputeResolved}. Reverts {QueryMismatch}, {RecordMismatch}.
    function postRecords(uint256 id, uint32[] calldata indices, Record[] calldata records, bytes32[][] calldata proofs)
        external
        nonReentrant
    {
        Dispute storage d = _move(id, Phase.AwaitRecords);
        if (keccak256(abi.encode(indices)) != d.queryHash || records.length != indices.length || proofs.length != indices.length) {
            revert QueryMismatch(id);
        }
        for (uint256 i = 0; i < indices.length; i++) _proveRecord(d.state, d.outputLength, indices[i], records[i], proofs[i]);
        d.moves += 1;
        // An asker who queried inside the window may dispute what the answer shows for one
        // move time more, window or not.
        if (askedInWindow[d.jobId][d.challenger]) market.extendHold(d.jobId, d.number, d.challenger, uint64(block.timestamp) + d.moveTime);
        emit RecordsPosted(id, indices, records, proofs);
        _resolve(id, d, false, Reason.Answered);
    }
}
