// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketState} from "./MarketState.sol";

/// @title MarketDisputes
/// @notice The market's side of disputes: authorised games open and resolve the disputes
///         of a job, which hold its finalisation and settle in the order they opened.
abstract contract MarketDisputes is MarketState {
    /// @notice Called by an authorised dispute game when a challenge opens: holds
    ///         finalisation until it is resolved. Only during the challenge window, or
    ///         the hold that extends it ({extendHold}).
    /// @return number The dispute's number within the job (0, 1, ...), which the game
    ///         passes back to {disputeResolved}.
    /// @dev Emits {DisputeOpened}.
    function disputeOpened(uint256 jobId) external returns (uint32 number) {
        if (!isDisputeGame[msg.sender]) revert NotDisputeGame(msg.sender);
        Job storage job = _job(jobId);
        _expect(jobId, job, Status.Submitted);
        uint64 endsAt = _disputableUntil(jobId, job);
        if (block.timestamp > endsAt) revert WindowClosed(jobId, endsAt);
        number = job.disputes.opened++;
        disputeSlot[jobId][number].game = msg.sender;
        job.openDisputes += 1;
        emit DisputeOpened(jobId, msg.sender, number);
    }

    /// @notice Called by the game of query `number` of a job when the trainer answers
    ///         `asker`'s query of its records: disputes may still open, and finalisation
    ///         waits, until `until` (the game passes the answer's time plus one move time),
    ///         so a trainer that answers each query at its deadline cannot run a challenger
    ///         who needs the answers out of the window. The game grants it only to askers
    ///         who queried inside the window, and here each one's first MAX_HOLDS answers
    ///         count: a trainer's puppets cannot use an honest asker's holds up, and a
    ///         griefer's accounts must each have paid a query bond (to the trainer) inside
    ///         the window. Never reverts (an honest trainer's answer must always land): a
    ///         caller that is not the query's game (one revoked since still is), or a job
    ///         no longer submitted, changes nothing.
    /// @dev Emits {HoldExtended} when the hold moves.
    function extendHold(uint256 jobId, uint32 number, address asker, uint64 until) external {
        if (jobId >= jobs.length || disputeSlot[jobId][number].game != msg.sender) return;
        Job storage job = jobs[jobId];
        if (job.status != Status.Submitted || holdsGranted[jobId][asker] >= MAX_HOLDS) return;
        holdsGranted[jobId][asker] += 1;
        if (until <= holdUntil[jobId]) return;
        holdUntil[jobId] = until;
        emit HoldExtended(jobId, until);
    }

    /// @notice Called by the game that opened dispute `number` with its outcome; a game
    ///         revoked since keeps the right to resolve the disputes it opened. Disputes
    ///         settle in the order they opened: when the trainer has lost one and every
    ///         earlier dispute is resolved, the job stake is slashed (half to the
    ///         challenger of the lowest-numbered dispute the trainer lost, the rest to the
    ///         job's treasury), the attestors' stakes with it, the reward goes back to the
    ///         requester and the job ends. So a cheater cannot hand its slash to a puppet
    ///         by stalling an earlier honest dispute. If the trainer won, the hold is
    ///         lifted and finalisation can proceed after the window. A loss with no
    ///         `challenger` (a query the trainer left unanswered) slashes the trainer but
    ///         earns nobody a share: the share goes to the earliest dispute won with a
    ///         challenger, if any, else to the treasury when every dispute is resolved.
    /// @dev Emits {DisputeResolved}, and {JobSlashed} when the job settles.
    function disputeResolved(uint256 jobId, uint32 number, bool trainerWon, address challenger) external {
        Job storage job = _job(jobId);
        DisputeSlot storage slot = disputeSlot[jobId][number];
        if (slot.game != msg.sender || slot.resolved) revert NotThisDisputesGame(jobId, number, msg.sender);
        _expect(jobId, job, Status.Submitted);
        slot.resolved = true;
        job.openDisputes -= 1;
        Disputes storage ds = job.disputes;
        if (!trainerWon) {
            ds.lost = true;
            if (challenger != address(0) && number < ds.bestWin) (ds.bestWin, ds.bestChallenger) = (number, challenger);
        }
        emit DisputeResolved(jobId, msg.sender, number, trainerWon, challenger);
        _advance(jobId, job, MAX_WALK);
    }

    /// @notice Anyone walks the job's resolved disputes further (at most `maxSteps`) and
    ///         settles the slash if it is due: {disputeResolved} walks a bounded number per
    ///         call, so no number of disputes can make resolving one run out of gas.
    /// @dev Emits {JobSlashed} when the job settles.
    function advance(uint256 jobId, uint32 maxSteps) external {
        Job storage job = _job(jobId);
        _expect(jobId, job, Status.Submitted);
        _advance(jobId, job, maxSteps);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Walks past resolved disputes (at most `maxSteps`); slashes once the trainer has
    ///      lost and every dispute before the earliest challenger win is resolved (or, with
    ///      no challenger win, every dispute is).
    function _advance(uint256 jobId, Job storage job, uint32 maxSteps) internal {
        Disputes storage ds = job.disputes;
        uint32 first = ds.firstUnresolved;
        uint32 stop = ds.opened - first > maxSteps ? first + maxSteps : ds.opened;
        while (first < stop && disputeSlot[jobId][first].resolved) first++;
        ds.firstUnresolved = first;
        if (!ds.lost) return;
        if (ds.bestWin == NO_WIN ? first == ds.opened : first > ds.bestWin) _slash(jobId, job);
    }

    /// @dev The trainer lost: its job stake and every attestor's stake go, half to the
    ///         challenger of the lowest-numbered lost dispute, and the reward goes back.
    function _slash(uint256 jobId, Job storage job) internal {
        job.status = Status.Slashed;
        job.openDisputes = 0;
        address challenger = job.disputes.bestChallenger;
        registry.slash(job.trainer, job.spec.jobStake, challenger, job.treasury);
        uint256 n = job.attestors.length;
        uint256 locked = job.terms.attestStake;
        if (locked > 0) for (uint256 i = 0; i < n; i++) registry.slash(job.attestors[i], locked, challenger, job.treasury);
        _pay(job.requester, job.spec.reward);
        emit JobSlashed(jobId, job.trainer, challenger, job.disputes.bestWin, locked * n);
    }
}
