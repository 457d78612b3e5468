// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The custom errors of ScoringEpochs, each with the values that made the call wrong.
abstract contract ScoringErrors {
    error InvalidSchedule(uint64 epochLength, uint64 commitLength);
    error InvalidShare(uint16 bps);
    error NotPhase(uint256 epoch, uint8 phase, uint8 now_);
    error NotValidator(address caller);
    error ValidatorStakeTooLow(address validator, uint256 stake, uint256 minStake);
    error AlreadyCommitted(uint256 epoch, address validator);
    error TooManyValidators(uint256 epoch, uint256 max);
    error NoCommit(uint256 epoch, address validator);
    error AlreadyRevealed(uint256 epoch, address validator);
    error RevealMismatch(uint256 epoch, address validator, bytes32 committed, bytes32 revealed);
    error BadWeights(uint256 services, uint256 weights);
    error ServicesNotAscending(uint256 previous, uint256 next);
    error ServiceNotLive(uint256 service);
    error TooManyServices(uint256 epoch, uint256 max);
    error ZeroWeights();
    error EpochNotOver(uint256 epoch, uint64 endsAt, uint64 now_);
    error EpochSettled(uint256 epoch);
    error EpochNotSettled(uint256 epoch);
    error AlreadyClaimed(uint256 epoch, bytes32 payee);
    error NothingToClaim(uint256 epoch, bytes32 payee);
    error ZeroFunding();
}
