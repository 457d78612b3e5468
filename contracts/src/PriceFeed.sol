// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice Chainlink's feed interface, so agents read a devnet feed and a real one alike.
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);
    function description() external view returns (string memory);
    function version() external view returns (uint256);
    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80);
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80);
}

/// @title PriceFeed
/// @notice An AggregatorV3Interface feed for the devnet, updated by an operator key.
///         Real networks use Chainlink's own feed address instead.
contract PriceFeed is AggregatorV3Interface, Ownable {
    struct Round {
        int256 answer;
        uint64 updatedAt;
    }

    uint8 public immutable override decimals;
    string public override description;
    uint80 public latestRound;
    mapping(uint80 => Round) internal rounds;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    error NoData(uint80 roundId);

    constructor(address operator, uint8 decimals_, string memory description_) Ownable(operator) {
        decimals = decimals_;
        description = description_;
    }

    function version() external pure override returns (uint256) {
        return 1;
    }

    /// @notice Publishes a new answer as the next round. Only the operator.
    /// @dev Emits {AnswerUpdated}, as Chainlink aggregators do.
    function update(int256 answer) external onlyOwner {
        latestRound += 1;
        rounds[latestRound] = Round(answer, uint64(block.timestamp));
        emit AnswerUpdated(answer, latestRound, block.timestamp);
    }

    function getRoundData(uint80 roundId) public view override returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = rounds[roundId];
        if (r.updatedAt == 0) revert NoData(roundId);
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }

    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(latestRound);
    }
}
