// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice Chainlink's legacy aggregator interface (answers by round, and the events
///         indexers follow), so tools written for Chainlink read a Commons feed unchanged.
interface AggregatorInterface {
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    function latestAnswer() external view returns (int256);
    function latestTimestamp() external view returns (uint256);
    function latestRound() external view returns (uint256);
    function getAnswer(uint256 roundId) external view returns (int256);
    function getTimestamp(uint256 roundId) external view returns (uint256);
}

/// @notice Chainlink's feed interface, so agents read a devnet feed and a real one alike.
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);
    function description() external view returns (string memory);
    function version() external view returns (uint256);
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}

/// @title PriceFeed
/// @notice A Chainlink-compatible feed for the devnet (AggregatorInterface and
///         AggregatorV3Interface), posted by updaters the owner names. Real networks use
///         Chainlink's own feed address instead.
/// @dev Each post is a round of its own, started and answered in the same block, so
///      `startedAt == updatedAt` and `answeredInRound == roundId`. Rounds count from 1;
///      round 0 never holds data. Answers are always > 0 and timestamps never go back,
///      so a reader only has to check how old the latest answer is.
contract PriceFeed is AggregatorInterface, AggregatorV3Interface, Ownable {
    struct Round {
        int256 answer;
        uint64 updatedAt;
    }

    uint8 public immutable override decimals;
    string public override description;
    /// @notice Accounts allowed to post answers (the updater role).
    mapping(address => bool) public isUpdater;
    uint80 internal lastRound;
    mapping(uint256 => Round) internal rounds;

    /// @notice The owner granted (`allowed`) or revoked the updater role of `updater`.
    event UpdaterSet(address indexed updater, bool allowed);

    /// @notice Round `roundId` was never posted.
    error NoData(uint256 roundId);
    /// @notice `caller` does not hold the updater role.
    error NotUpdater(address caller);
    /// @notice A price feed answer must be > 0; `answer` is not.
    error AnswerNotPositive(int256 answer);
    /// @notice The clock stood at `now_`, before the latest round's `latest` (only a test chain can do that).
    error TimestampWentBack(uint256 latest, uint256 now_);
    /// @notice The zero address cannot hold the updater role.
    error ZeroUpdater();

    /// @param owner_ Who grants and revokes the updater role.
    /// @param updaters Accounts that hold the updater role from the start.
    constructor(address owner_, address[] memory updaters, uint8 decimals_, string memory description_) Ownable(owner_) {
        decimals = decimals_;
        description = description_;
        for (uint256 i = 0; i < updaters.length; i++) {
            _setUpdater(updaters[i], true);
        }
    }

    /// @notice Version of this aggregator: 2 adds the updater role and the legacy interface.
    function version() external pure override returns (uint256) {
        return 2;
    }

    /// @notice Grants or revokes the updater role.
    /// @dev Emits {UpdaterSet}. Requirements: the caller is the owner; `updater` is not zero.
    function setUpdater(address updater, bool allowed) external onlyOwner {
        _setUpdater(updater, allowed);
    }

    /// @notice Posts `answer` as the next round, timestamped now.
    /// @dev Emits {NewRound} then {AnswerUpdated}, as Chainlink aggregators do.
    ///      Requirements: the caller holds the updater role; `answer` > 0.
    /// @return roundId The round the answer was posted as.
    function update(int256 answer) external returns (uint80 roundId) {
        if (!isUpdater[msg.sender]) revert NotUpdater(msg.sender);
        if (answer <= 0) revert AnswerNotPositive(answer);
        uint256 latest = rounds[lastRound].updatedAt;
        if (block.timestamp < latest) revert TimestampWentBack(latest, block.timestamp);
        // A uint80 of rounds is never exhausted: one round a second lasts 3.8e16 years.
        roundId = lastRound + 1;
        lastRound = roundId;
        rounds[roundId] = Round(answer, uint64(block.timestamp));
        emit NewRound(roundId, msg.sender, block.timestamp);
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    /// @notice The latest answer, or 0 before the first round (as Chainlink's legacy interface does).
    function latestAnswer() external view override returns (int256) {
        return rounds[lastRound].answer;
    }

    /// @notice When the latest answer was posted, or 0 before the first round.
    function latestTimestamp() external view override returns (uint256) {
        return rounds[lastRound].updatedAt;
    }

    /// @notice The latest round id; 0 before the first round.
    function latestRound() external view override returns (uint256) {
        return lastRound;
    }

    /// @notice The answer of round `roundId`, or 0 for a round never posted (legacy semantics).
    function getAnswer(uint256 roundId) external view override returns (int256) {
        return rounds[roundId].answer;
    }

    /// @notice When round `roundId` was posted, or 0 for a round never posted (legacy semantics).
    function getTimestamp(uint256 roundId) external view override returns (uint256) {
        return rounds[roundId].updatedAt;
    }

    /// @notice Round `roundId`: its id, answer, start and update time, and the round that answered it.
    /// @dev Requirements: the round was posted (else {NoData}).
    function getRoundData(uint80 roundId) public view override returns (uint80, int256, uint256, uint256, uint80) {
        if (roundId == 0 || roundId > lastRound) revert NoData(roundId);
        Round memory r = rounds[roundId];
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }

    /// @notice The latest round, as {getRoundData}; reverts with {NoData} before the first round.
    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(lastRound);
    }

    function _setUpdater(address updater, bool allowed) internal {
        if (updater == address(0)) revert ZeroUpdater();
        isUpdater[updater] = allowed;
        emit UpdaterSet(updater, allowed);
    }
}
